package thrifttracing

import (
	"strings"
	"sync"
	"sync/atomic"
)

// names interns the operation and service names of spans, so that the
// export buffer can hold them as numbers: a buffer without pointers is not
// scanned by the garbage collector and is written without write barriers.
// There are as many names as a program has Thrift methods and peers; past
// maxNames, names travel beside the buffer instead (see spanRing).
var names nameTable

var maxNames = 1 << 16 // a variable for tests, guarded by names.mu

type nameTable struct {
	mu   sync.Mutex
	ids  sync.Map                 // name → id
	list atomic.Pointer[[]string] // list[id-1] is the name of id
}

// id returns the id of s (0 for ""), adding it if need be; ok is false if
// the table is full.
func (t *nameTable) id(s string) (id uint32, ok bool) {
	if s == "" {
		return 0, true
	}
	if v, found := t.ids.Load(s); found {
		return v.(uint32), true
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if v, found := t.ids.Load(s); found {
		return v.(uint32), true
	}
	var list []string
	if p := t.list.Load(); p != nil {
		list = *p
	}
	if len(list) >= maxNames {
		return 0, false
	}
	s = strings.Clone(s) // the caller's string may alias a buffer
	list = append(list[:len(list):len(list)], s)
	t.list.Store(&list)
	id = uint32(len(list))
	t.ids.Store(s, id)
	return id, true
}

// name returns the name of id.
func (t *nameTable) name(id uint32) string {
	if id == 0 {
		return ""
	}
	return (*t.list.Load())[id-1]
}

// lookup returns the id of s, trusting hint (an id the Tracer found when it
// was set up) if it names s, which spares the map.
func (t *nameTable) lookup(hint uint32, s string) (uint32, bool) {
	if hint != 0 && t.name(hint) == s {
		return hint, true
	}
	return t.id(s)
}

// mustID is id for names known when a Tracer is set up; 0 if the table is
// full (then Record looks the name up, and finds it does not fit).
func (t *nameTable) mustID(s string) uint32 {
	id, _ := t.id(s)
	return id
}
