package ingest

import (
	"math/rand/v2"
	"path/filepath"
	"testing"
)

// monthKeys is a set: every key added is found again, through merges of
// the added table into the sorted slice, a save and a load, key 0 included.
func TestMonthKeysIsASet(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	want := map[uint64]bool{0: false}
	var s monthKeys
	s.reset([]uint64{7, 3, 7})
	want[7], want[3] = true, true
	for i := 0; i < 3*addedSlots; i++ {
		k := rng.Uint64()
		if i%5 == 0 { // keys already in
			k = uint64(i)
		}
		if i == addedSlots {
			k = 0
		}
		if got := s.add(k); got == want[k] {
			t.Fatalf("add(%d) = %v with the key already in: %v", k, got, want[k])
		}
		want[k] = true
	}
	path := filepath.Join(t.TempDir(), "keys")
	if err := s.save(path); err != nil {
		t.Fatal(err)
	}
	var loaded monthKeys
	if err := loaded.load(path); err != nil {
		t.Fatal(err)
	}
	for k, in := range want {
		if in && loaded.add(k) {
			t.Fatalf("key %d lost by save and load", k)
		}
	}
	if loaded.add(12345678901) == false {
		t.Fatal("a new key taken as present")
	}
}
