package seerthriftreceiver // import "github.com/seer-qos/seer/receiver/seerthriftreceiver"

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/apache/thrift/lib/go/thrift"
)

// wire is the part of a thrift protocol reader the decoder needs. The
// decoder reads through it so that one mapping serves two readers: bytesWire,
// a hand-written reader of binary and compact bytes held in memory (frames
// and HTTP bodies: the fast path, no copy or allocation per field), and
// protoWire, an adapter over any thrift.TProtocol (unframed and compressed
// THeader streams).
type wire interface {
	structBegin() error
	structEnd() error
	// fieldBegin returns the type and id of the next field, or STOP.
	fieldBegin() (thrift.TType, int16, error)
	listBegin() (thrift.TType, int, error)
	readI32() (int32, error)
	readI64() (int64, error)
	// readBytes returns a binary value; it is valid until the next read.
	readBytes() ([]byte, error)
	readString() (string, error)
	// readName returns a string that is likely to repeat (attribute keys,
	// method names); the reader may intern it.
	readName() (string, error)
	skip(thrift.TType) error
}

// protoWire reads through a thrift.TProtocol.
type protoWire struct {
	ctx context.Context
	p   thrift.TProtocol
}

func (w protoWire) structBegin() error {
	_, err := w.p.ReadStructBegin(w.ctx)
	return err
}

func (w protoWire) structEnd() error { return w.p.ReadStructEnd(w.ctx) }

func (w protoWire) fieldBegin() (thrift.TType, int16, error) {
	_, typ, id, err := w.p.ReadFieldBegin(w.ctx)
	if err == nil && typ != thrift.STOP {
		// ReadFieldEnd is a no-op in the binary and compact protocols;
		// call it for any other.
		err = w.p.ReadFieldEnd(w.ctx)
	}
	return typ, id, err
}

func (w protoWire) listBegin() (thrift.TType, int, error) { return w.p.ReadListBegin(w.ctx) }
func (w protoWire) readI32() (int32, error)               { return w.p.ReadI32(w.ctx) }
func (w protoWire) readI64() (int64, error)               { return w.p.ReadI64(w.ctx) }
func (w protoWire) readBytes() ([]byte, error)            { return w.p.ReadBinary(w.ctx) }
func (w protoWire) readString() (string, error)           { return w.p.ReadString(w.ctx) }
func (w protoWire) readName() (string, error)             { return w.p.ReadString(w.ctx) }
func (w protoWire) skip(t thrift.TType) error             { return w.p.Skip(w.ctx, t) }

// Compact protocol type codes (thrift's compact_protocol.go).
const (
	compactBooleanTrue  = 0x01
	compactBooleanFalse = 0x02
	compactByte         = 0x03
	compactI16          = 0x04
	compactI32          = 0x05
	compactI64          = 0x06
	compactDouble       = 0x07
	compactBinary       = 0x08
	compactList         = 0x09
	compactSet          = 0x0A
	compactMap          = 0x0B
	compactStruct       = 0x0C
	compactUUID         = 0x0D
)

// compactTypes maps compact type codes to thrift types; STOP marks an
// invalid code.
var compactTypes = [16]thrift.TType{
	compactBooleanTrue:  thrift.BOOL,
	compactBooleanFalse: thrift.BOOL,
	compactByte:         thrift.BYTE,
	compactI16:          thrift.I16,
	compactI32:          thrift.I32,
	compactI64:          thrift.I64,
	compactDouble:       thrift.DOUBLE,
	compactBinary:       thrift.STRING,
	compactList:         thrift.LIST,
	compactSet:          thrift.SET,
	compactMap:          thrift.MAP,
	compactStruct:       thrift.STRUCT,
	compactUUID:         thrift.UUID,
}

// maxNesting bounds how deep skip descends into unknown fields.
const maxNesting = 64

// maxInterned bounds the number of names a bytesWire remembers, and
// maxInternedLen their length, so that the memory of interned names stays
// under 32 KiB however hostile the input.
const (
	maxInterned    = 512
	maxInternedLen = 64
)

var errShort = errors.New("unexpected end of data")

// bytesWire reads the binary or the compact protocol from a byte slice.
type bytesWire struct {
	buf     []byte
	pos     int
	compact bool
	// Compact only: the last field id of each open struct.
	lastID  int16
	idStack []int16
	// A bool field's value is in its compact field header.
	boolVal int8 // -1: none, 0 false, 1 true
	names   map[string]string
}

// newBytesWire returns a reader for the binary (compact false) or compact
// protocol.
func newBytesWire(compact bool) *bytesWire {
	return &bytesWire{compact: compact, boolVal: -1, names: make(map[string]string)}
}

// reset points the reader at buf; interned names are kept.
func (w *bytesWire) reset(buf []byte) {
	w.buf, w.pos, w.lastID, w.idStack, w.boolVal = buf, 0, 0, w.idStack[:0], -1
}

// remaining is the number of unread bytes.
func (w *bytesWire) remaining() int { return len(w.buf) - w.pos }

func (w *bytesWire) errAt(what string) error {
	return fmt.Errorf("%w: %s at byte %d of %d", errShort, what, w.pos, len(w.buf))
}

func (w *bytesWire) take(n int, what string) ([]byte, error) {
	if n < 0 || n > len(w.buf)-w.pos {
		return nil, w.errAt(what)
	}
	b := w.buf[w.pos : w.pos+n : w.pos+n]
	w.pos += n
	return b, nil
}

func (w *bytesWire) byte1(what string) (byte, error) {
	if w.pos >= len(w.buf) {
		return 0, w.errAt(what)
	}
	b := w.buf[w.pos]
	w.pos++
	return b, nil
}

// uvarint reads a compact unsigned varint of at most 64 bits.
func (w *bytesWire) uvarint(what string) (uint64, error) {
	v, n := binary.Uvarint(w.buf[w.pos:])
	if n <= 0 {
		return 0, fmt.Errorf("bad varint for %s at byte %d", what, w.pos)
	}
	w.pos += n
	return v, nil
}

func (w *bytesWire) zigzag32(what string) (int32, error) {
	v, err := w.uvarint(what)
	if err != nil {
		return 0, err
	}
	if v > 1<<32-1 {
		return 0, fmt.Errorf("varint for %s overflows 32 bits", what)
	}
	u := uint32(v)
	return int32(u>>1) ^ -int32(u&1), nil
}

func (w *bytesWire) structBegin() error {
	if w.compact {
		if len(w.idStack) >= maxNesting {
			return fmt.Errorf("structs nested deeper than %d", maxNesting)
		}
		w.idStack = append(w.idStack, w.lastID)
		w.lastID = 0
	}
	return nil
}

func (w *bytesWire) structEnd() error {
	if w.compact {
		if len(w.idStack) == 0 {
			return errors.New("struct end without a struct")
		}
		w.lastID = w.idStack[len(w.idStack)-1]
		w.idStack = w.idStack[:len(w.idStack)-1]
	}
	return nil
}

func (w *bytesWire) fieldBegin() (thrift.TType, int16, error) {
	b, err := w.byte1("field header")
	if err != nil {
		return 0, 0, err
	}
	if !w.compact {
		typ := thrift.TType(b)
		if typ == thrift.STOP {
			return typ, 0, nil
		}
		idb, err := w.take(2, "field id")
		if err != nil {
			return 0, 0, err
		}
		return typ, int16(binary.BigEndian.Uint16(idb)), nil
	}
	code := b & 0x0f
	if code == 0 {
		// The thrift library takes any header with type 0 as STOP,
		// whatever its delta bits; so do we.
		return thrift.STOP, 0, nil
	}
	typ := compactTypes[code]
	if typ == thrift.STOP {
		return 0, 0, fmt.Errorf("unknown compact type %d", code)
	}
	id := w.lastID + int16(b>>4)
	if b>>4 == 0 {
		v, err := w.zigzag32("field id")
		if err != nil {
			return 0, 0, err
		}
		id = int16(v)
	}
	w.lastID = id
	w.boolVal = -1
	if typ == thrift.BOOL {
		w.boolVal = int8(2 - code) // true 1, false 0
	}
	return typ, id, nil
}

func (w *bytesWire) listBegin() (thrift.TType, int, error) {
	var typ thrift.TType
	var size int
	if w.compact {
		b, err := w.byte1("list header")
		if err != nil {
			return 0, 0, err
		}
		typ = compactTypes[b&0x0f]
		// Type 0 reads as STOP, as in the thrift library: an empty list
		// of it is fine, elements of it fail when read.
		if c := b & 0x0f; typ == thrift.STOP && c != 0 {
			return 0, 0, fmt.Errorf("unknown compact list element type %d", c)
		}
		size = int(b >> 4)
		if size == 15 {
			v, err := w.uvarint("list size")
			if err != nil {
				return 0, 0, err
			}
			if v > 1<<31-1 {
				return 0, 0, fmt.Errorf("list size %d", v)
			}
			size = int(v)
		}
	} else {
		h, err := w.take(5, "list header")
		if err != nil {
			return 0, 0, err
		}
		typ = thrift.TType(h[0])
		size = int(int32(binary.BigEndian.Uint32(h[1:])))
		if size < 0 {
			return 0, 0, fmt.Errorf("negative list size %d", size)
		}
	}
	// Every element takes at least one byte: a declared size beyond the
	// data is refused before anyone allocates for it.
	if size > w.remaining() {
		return 0, 0, fmt.Errorf("list of %d elements in %d bytes", size, w.remaining())
	}
	return typ, size, nil
}

func (w *bytesWire) readI32() (int32, error) {
	if w.compact {
		return w.zigzag32("i32")
	}
	b, err := w.take(4, "i32")
	if err != nil {
		return 0, err
	}
	return int32(binary.BigEndian.Uint32(b)), nil
}

func (w *bytesWire) readI64() (int64, error) {
	if w.compact {
		v, err := w.uvarint("i64")
		if err != nil {
			return 0, err
		}
		return int64(v>>1) ^ -int64(v&1), nil
	}
	b, err := w.take(8, "i64")
	if err != nil {
		return 0, err
	}
	return int64(binary.BigEndian.Uint64(b)), nil
}

func (w *bytesWire) readBytes() ([]byte, error) {
	var n int
	if w.compact {
		v, err := w.uvarint("binary length")
		if err != nil {
			return nil, err
		}
		if v > uint64(w.remaining()) {
			return nil, w.errAt(fmt.Sprintf("binary of %d bytes", v))
		}
		n = int(v)
	} else {
		b, err := w.take(4, "binary length")
		if err != nil {
			return nil, err
		}
		n = int(int32(binary.BigEndian.Uint32(b)))
	}
	return w.take(n, "binary")
}

func (w *bytesWire) readString() (string, error) {
	b, err := w.readBytes()
	return string(b), err
}

func (w *bytesWire) readName() (string, error) {
	b, err := w.readBytes()
	if err != nil {
		return "", err
	}
	if len(b) > maxInternedLen {
		return string(b), nil
	}
	if s, ok := w.names[string(b)]; ok {
		return s, nil
	}
	s := string(b)
	if len(w.names) < maxInterned {
		w.names[s] = s
	}
	return s, nil
}

func (w *bytesWire) skip(t thrift.TType) error { return w.skipDepth(t, 0) }

func (w *bytesWire) skipDepth(t thrift.TType, depth int) error {
	if depth > maxNesting {
		return fmt.Errorf("values nested deeper than %d", maxNesting)
	}
	var err error
	switch t {
	case thrift.BOOL:
		if w.compact && w.boolVal >= 0 {
			w.boolVal = -1 // the value was in the field header
			return nil
		}
		_, err = w.take(1, "bool")
	case thrift.BYTE:
		_, err = w.take(1, "byte")
	case thrift.I16, thrift.I32:
		if w.compact {
			_, err = w.uvarint("int")
		} else {
			n := 4
			if t == thrift.I16 {
				n = 2
			}
			_, err = w.take(n, "int")
		}
	case thrift.I64:
		_, err = w.readI64()
	case thrift.DOUBLE:
		_, err = w.take(8, "double")
	case thrift.UUID:
		_, err = w.take(16, "uuid")
	case thrift.STRING:
		_, err = w.readBytes()
	case thrift.STRUCT:
		if err = w.structBegin(); err != nil {
			return err
		}
		for {
			ft, _, err := w.fieldBegin()
			if err != nil {
				return err
			}
			if ft == thrift.STOP {
				break
			}
			if err := w.skipDepth(ft, depth+1); err != nil {
				return err
			}
		}
		err = w.structEnd()
	case thrift.LIST, thrift.SET:
		et, n, lerr := w.listBegin()
		if lerr != nil {
			return lerr
		}
		for range n {
			w.boolVal = -1 // list bools are one byte each
			if err := w.skipDepth(et, depth+1); err != nil {
				return err
			}
		}
	case thrift.MAP:
		err = w.skipMap(depth)
	default:
		err = fmt.Errorf("cannot skip type %d", t)
	}
	return err
}

func (w *bytesWire) skipMap(depth int) error {
	var kt, vt thrift.TType
	var n int
	if w.compact {
		v, err := w.uvarint("map size")
		if err != nil {
			return err
		}
		if v > uint64(w.remaining()) {
			return fmt.Errorf("map of %d entries in %d bytes", v, w.remaining())
		}
		n = int(v)
		if n > 0 {
			b, err := w.byte1("map types")
			if err != nil {
				return err
			}
			kt, vt = compactTypes[b>>4], compactTypes[b&0x0f]
		}
	} else {
		h, err := w.take(6, "map header")
		if err != nil {
			return err
		}
		kt, vt = thrift.TType(h[0]), thrift.TType(h[1])
		n = int(int32(binary.BigEndian.Uint32(h[2:])))
		if n < 0 || n > w.remaining() {
			return fmt.Errorf("map of %d entries in %d bytes", n, w.remaining())
		}
	}
	for range n {
		w.boolVal = -1
		if err := w.skipDepth(kt, depth+1); err != nil {
			return err
		}
		w.boolVal = -1
		if err := w.skipDepth(vt, depth+1); err != nil {
			return err
		}
	}
	return nil
}
