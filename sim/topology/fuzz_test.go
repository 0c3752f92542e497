package topology

import "testing"

func FuzzParse(f *testing.F) {
	for _, name := range Builtin() {
		doc, _ := BuiltinDoc(name)
		f.Add(doc)
	}
	f.Add([]byte("name: t\nservices: [{name: a, operations: [{name: o, calls: [{call: {service: a, op: o, probability: 0.9}}]}]}]\nrequests: [{name: r, weight: 1, service: a, op: o}]\n"))
	f.Add([]byte("services: [null]\nrequests: [null]"))
	f.Fuzz(func(t *testing.T, doc []byte) {
		topo, err := Parse(doc)
		if err != nil {
			return
		}
		if _, err := topo.Loads(1000); err != nil {
			t.Fatalf("valid topology without loads: %v", err)
		}
		b, err := Marshal(topo)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Parse(b); err != nil {
			t.Fatalf("marshalled topology does not parse back: %v\n%s", err, b)
		}
	})
}
