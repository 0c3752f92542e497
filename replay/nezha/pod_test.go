package nezha

import "testing"

func TestServiceOf(t *testing.T) {
	tests := []struct{ pod, want string }{
		{"frontend-579b9bff58-t2dbm", "frontend"},
		{"productcatalogservice-668d5f85fb-jhwx9", "productcatalogservice"},
		{"paymentservice-9cdb6588f-554sm", "paymentservice"},
		{"redis-cart-6b9d6c7c77-2m8kz", "redis-cart"},
		{"redis-cart-0", "redis-cart"},
		{"frontend", "frontend"},
		{"front-end-v2", "front-end-v2"},                             // no hash: the name as it is
		{"frontend-579b9bff58-t2dbmx", "frontend-579b9bff58-t2dbmx"}, // suffix too long
		{"frontend-ABCDE-t2dbm", "frontend-ABCDE-t2dbm"},             // upper case is no hash
		{"-2-22222", "-2-22222"},                                     // nothing before the hash
		{"-0", "-0"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := ServiceOf(tt.pod); got != tt.want {
			t.Errorf("ServiceOf(%q) = %q, want %q", tt.pod, got, tt.want)
		}
	}
}
