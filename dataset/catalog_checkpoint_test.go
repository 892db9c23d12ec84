package dataset

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// referenceCatalog reads a catalog the way encoding/json alone does, as
// catalog.json was read before it was streamed.
func referenceCatalog(data []byte) (*Catalog, error) {
	c := &Catalog{}
	in := catalogFile{catalogFields: (*catalogFields)(c)}
	if err := json.Unmarshal(data, &in); err != nil {
		return nil, err
	}
	c.Sources = map[string]*Checkpoint{}
	return c, resolveHeaders(in.Sources, in.Headers, c.Sources)
}

// randomCatalog is a catalog whose paths, servers and headers hold what
// JSON must escape, spaces and braces, Windows paths and non-ASCII text.
func randomCatalog(rng *rand.Rand) *Catalog {
	pieces := []string{`C:\logs\`, "/srv/logs/", "Sessions_", "QVS-01", `"q"`, "{}", "[,]", "é", "日本", "\t", " ", "\u2028", "<&>", "x"}
	text := func(n int) string {
		var s string
		for range rng.IntN(n) + 1 {
			s += pieces[rng.IntN(len(pieces))]
		}
		return s
	}
	c := &Catalog{Version: rng.Int64N(1000), Committed: time.Unix(rng.Int64N(1e9), rng.Int64N(1e9)).UTC(), KeyVersion: rng.IntN(3),
		Files:   []DataFile{{Path: "sessions/month=2024-03/part-1.parquet", Kind: KindSessions, Month: "2024-03", Rows: 3, Bytes: 9}},
		Sources: map[string]*Checkpoint{},
		Servers: map[string]*ServerInfo{text(2): {LastSessionEnd: time.Unix(rng.Int64N(1e9), 0).UTC()}}}
	for range rng.IntN(40) {
		c.Sources[text(6)] = &Checkpoint{Server: text(2), Size: rng.Int64(), ModTime: time.Unix(rng.Int64N(4e9)-1e9, rng.Int64N(1e9)).In(time.FixedZone("", 3600*(rng.IntN(25)-12))),
			HeadHash: rng.Uint64(), HeadLen: rng.Int64N(4097), TailHash: rng.Uint64() * uint64(rng.IntN(2)), TailLen: rng.Int64N(4097),
			Offset: -rng.Int64N(2) + rng.Int64N(1<<40), Line: rng.Int64N(1 << 30), Header: text(3)}
	}
	return c
}

// The streaming reader reads every catalog as encoding/json does: as
// Commit writes it, indented, and in the older form with a header per
// checkpoint.
func TestStreamedCatalogIsEncodingJSONs(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for i := range 300 {
		cat := randomCatalog(rng)
		compact, err := json.Marshal(cat)
		require.NoError(t, err)
		var indented bytes.Buffer
		require.NoError(t, json.Indent(&indented, compact, " ", "\t"))
		older := map[string]any{"version": cat.Version, "sources": map[string]any{}}
		for path, cp := range cat.Sources {
			older["sources"].(map[string]any)[path] = cp
		}
		olderText, err := json.Marshal(older)
		require.NoError(t, err)
		for form, text := range map[string][]byte{"compact": compact, "indented": indented.Bytes(), "older": olderText} {
			want, err := referenceCatalog(text)
			require.NoError(t, err)
			got := &Catalog{}
			require.NoError(t, decodeCatalog(bytes.NewReader(text), got, true), "%d %s: %s", i, form, text)
			require.Equal(t, want, got, "%d %s", i, form)
		}
	}
}

// What encoding/json refuses, the streaming reader refuses; what it reads,
// the streaming reader reads the same.
func FuzzStreamedCatalog(f *testing.F) {
	rng := rand.New(rand.NewPCG(9, 10))
	for range 5 {
		text, _ := json.Marshal(randomCatalog(rng))
		f.Add(text)
	}
	for _, s := range []string{`{}`, `{"sources":null}`, `{"version":1,"sources":{"a":{"size":1.5}}}`, `{"sources":{"a":{"size":01}}}`,
		`{"sources":{"a":{"server":"\u00e9"}}}`, `{"sources":{"a":{"Server":"x"}}}`, `{"sources":{"a":null}}`, `{"version":1} x`, `{"sources":{"a":{}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		want, wantErr := referenceCatalog(text)
		got := &Catalog{}
		err := decodeCatalog(bytes.NewReader(text), got, true)
		if wantErr != nil {
			require.Error(t, err, "encoding/json: %v", wantErr)
			return
		}
		require.NoError(t, err)
		require.Equal(t, want, got)
	})
}

// Damaged catalogs (bytes changed, cut or dropped at random) are refused
// by the streaming reader exactly when encoding/json refuses them, and
// read the same otherwise.
func TestStreamedCatalogRefusesWhatEncodingJSONRefuses(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	seed, err := json.Marshal(randomCatalog(rng))
	require.NoError(t, err)
	for i := range 5000 {
		text := bytes.Clone(seed)
		for range rng.IntN(4) + 1 {
			switch j := rng.IntN(len(text)); rng.IntN(3) {
			case 0:
				text[j] = byte(rng.IntN(256))
			case 1:
				text = text[:j]
			default:
				text = append(text[:j], text[j+1:]...)
			}
			if len(text) == 0 {
				break
			}
		}
		want, wantErr := referenceCatalog(text)
		got := &Catalog{}
		err := decodeCatalog(bytes.NewReader(text), got, true)
		require.Equal(t, wantErr != nil, err != nil, "%d: %q: encoding/json %v, streamed %v", i, text, wantErr, err)
		if wantErr == nil {
			require.Equal(t, want, got, "%d: %q", i, text)
		}
	}
}
