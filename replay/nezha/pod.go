package nezha

import "strings"

// ServiceOf returns the service of a Kubernetes pod name: the name without
// the ReplicaSet hash and the pod suffix ("frontend-579b9bff58-t2dbm" ->
// "frontend"), without the ordinal of a StatefulSet pod ("redis-cart-0" ->
// "redis-cart"), else the name itself. It is never empty for a non-empty
// pod name.
func ServiceOf(pod string) string {
	parts := strings.Split(pod, "-")
	n := len(parts)
	var svc string
	switch {
	case n >= 3 && isPodSuffix(parts[n-1]) && isHash(parts[n-2]):
		svc = strings.Join(parts[:n-2], "-")
	case n >= 2 && isOrdinal(parts[n-1]):
		svc = strings.Join(parts[:n-1], "-")
	}
	if svc == "" {
		return pod
	}
	return svc
}

// Kubernetes draws generated name parts from this alphabet (no vowels, no
// digits that look like letters).
const safeAlphabet = "bcdfghjklmnpqrstvwxz2456789"

func safe(s string) bool {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(safeAlphabet, s[i]) < 0 {
			return false
		}
	}
	return true
}

// isHash: a ReplicaSet pod-template hash (up to 10 characters).
func isHash(s string) bool { return len(s) >= 1 && len(s) <= 10 && safe(s) }

// isPodSuffix: the 5-character random suffix of a generated pod name.
func isPodSuffix(s string) bool { return len(s) == 5 && safe(s) }

func isOrdinal(s string) bool {
	if s == "" || len(s) > 6 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
