package metering

import "testing"

func TestClientKey(t *testing.T) {
	type line struct{ machine, clientType, user, address string }
	tests := []struct {
		name string
		a, b line
		same bool
	}{
		{"spec Session CAL: one client instance is machine id + client type, whatever the user",
			line{"m1", "Ajax", "u1", "10.0.0.1"}, line{"m1", "Ajax", "u2", "10.0.0.2"}, true},
		{"spec Session CAL: another client type on the same machine is another instance",
			line{"m1", "Ajax", "u1", ""}, line{"m1", "Desktop", "u1", ""}, false},
		{"issue 11: empty machine ids of two users are two clients",
			line{"", "Ajax", "u1", "10.0.0.1"}, line{"", "Ajax", "u2", "10.0.0.1"}, false},
		{"issue 11: empty machine id, one user from two addresses is two clients",
			line{"", "Ajax", "u1", "10.0.0.1"}, line{"", "Ajax", "u1", "10.0.0.2"}, false},
		{"issue 11: empty machine id, same user, address and type is one client",
			line{"", "Ajax", "u1", "10.0.0.1"}, line{"", "Ajax", "u1", "10.0.0.1"}, true},
		{"issue 11: empty machine id and address, keyed on user and client type",
			line{"", "Ajax", "u1", ""}, line{"", "Desktop", "u1", ""}, false},
		{"issue 11: a fallback key never equals a machine's key",
			line{"", "Ajax", "", ""}, line{"\x00Ajax", "", "", ""}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := ClientKey(tt.a.machine, tt.a.clientType, tt.a.user, tt.a.address)
			b := ClientKey(tt.b.machine, tt.b.clientType, tt.b.user, tt.b.address)
			if (a == b) != tt.same {
				t.Fatalf("ClientKey %q and %q: same = %v, want %v", a, b, a == b, tt.same)
			}
			if got, want := keyedWithoutID(a), tt.a.machine == ""; got != want {
				t.Fatalf("keyedWithoutID(%q) = %v, want %v", a, got, want)
			}
		})
	}
}
