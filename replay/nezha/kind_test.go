package nezha

import (
	"testing"
)

func TestOperationService(t *testing.T) {
	tests := []struct{ op, want string }{
		{"hipstershop.CartService/GetCart", "cartservice"},
		{"/hipstershop.EmailService/SendOrderConfirmation", "emailservice"},
		{"grpc.hipstershop.CurrencyService/Convert", "currencyservice"},
		{"hipstershop.Frontend/Recv.", "frontend"},
		{"sql.conn.query", ""},
		{"SELECT addatabase.aditems", ""},
		{"/", ""},
	}
	for _, tt := range tests {
		if got := OperationService(tt.op); got != tt.want {
			t.Errorf("OperationService(%q) = %q, want %q", tt.op, got, tt.want)
		}
	}
}

func id8(b byte) [8]byte { return [8]byte{7: b} }

func TestClassify(t *testing.T) {
	tr := [16]byte{15: 1}
	row := func(span, parent byte, pod, op string) Span {
		r := Row{TraceID: tr, SpanID: id8(span), Pod: pod, Operation: op, Start: 1, End: 2}
		if parent == 0 {
			r.Root = true
		} else {
			r.ParentID = id8(parent)
		}
		return Span{Row: r}
	}
	const fe, cart, cat = "frontend-579b9bff58-t2dbm", "cartservice-579f59597d-wc2lz", "productcatalogservice-668d5f85fb-wckp8"
	spans := []Span{
		row(1, 0, fe, "hipstershop.Frontend/Recv."),
		row(2, 1, fe, "hipstershop.CartService/GetCart"), // callee span present
		row(3, 2, cart, "hipstershop.CartService/GetCart"),
		row(4, 1, fe, "hipstershop.ProductCatalogService/GetProduct"), // callee span missing
		row(5, 1, fe, "render"),
		row(6, 9, cat, "sql.rows"), // parent not in the data
		row(7, 3, cart, "redis.get"),
	}
	spans = append(spans, row(8, 6, cat, "hipstershop.ProductCatalogService/ParseCatalog"))
	known := map[string]bool{}
	if got := Classify(spans, known); got != 1 {
		t.Errorf("orphans = %d, want 1", got)
	}
	want := []struct {
		kind   Kind
		peer   string
		orphan bool
	}{
		{KindServer, "", false},
		{KindClient, "cartservice", false},
		{KindServer, "", false},
		{KindClient, "productcatalogservice", false},
		{KindInternal, "", false},
		{KindServer, "", true},
		{KindInternal, "", false},
		{KindInternal, "", false},
	}
	for i, w := range want {
		s := spans[i]
		if s.Kind != w.kind || s.Peer != w.peer || s.Orphan != w.orphan {
			t.Errorf("span %d (%s %s): kind %v peer %q orphan %v, want %v %q %v", i+1, s.Pod, s.Operation, s.Kind, s.Peer, s.Orphan, w.kind, w.peer, w.orphan)
		}
	}
	for _, svc := range []string{"frontend", "cartservice", "productcatalogservice"} {
		if !known[svc] {
			t.Errorf("service %s not added to known", svc)
		}
	}
}
