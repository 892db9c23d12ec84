package parse

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// Spec, "User key": first non-empty of Authenticated User, Identifying
// User; compare case-insensitively; keep the original spelling for display
// (from the same field the key came from); anonymous sessions key on Client
// Machine Identification.
func TestUserKeyAndDisplay(t *testing.T) {
	tests := []struct {
		name                 string
		auth, ident, client  string
		wantKey, wantDisplay string
	}{
		{"Authenticated User first", `CORP\Alice`, `alice@corp.com`, "c1", `corp\alice`, `CORP\Alice`},
		{"Identifying User when Authenticated User is empty", "", `CUSTOM\Bob`, "c1", `custom\bob`, `CUSTOM\Bob`},
		{"only spaces is absent too", "   ", `CUSTOM\Bob`, "c1", `custom\bob`, `CUSTOM\Bob`},
		{"padding is not part of the name", ` CORP\Alice `, "", "c1", `corp\alice`, `CORP\Alice`},
		{"anonymous: the client id", "", " ", "0A1B-CD", "0a1b-cd", "0A1B-CD"},
		{"non-ASCII is folded too", `CORP\Ärne`, "", "", `corp\ärne`, `CORP\Ärne`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.wantKey, UserKey(tt.auth, tt.ident, tt.client))
			require.Equal(t, tt.wantDisplay, UserDisplay(tt.auth, tt.ident, tt.client))
		})
	}
}

// Spec, "Document key": the path with \ turned into /, compared
// case-insensitively.
func TestDocumentKey(t *testing.T) {
	require.Equal(t, "//fileserver/qv/finance.qvw", DocumentKey(`\\fileserver\QV\Finance.QVW`))
	require.Equal(t, "c:/programdata/qliktech/documents/sales.qvw", DocumentKey(`C:\ProgramData\QlikTech\Documents\Sales.qvw`))
	require.Equal(t, "d:/docs/ärger.qvw", DocumentKey(`D:/Docs/Ärger.qvw`))
}

// The decoder's key columns are the exported functions' results, row by
// row, over every sample: one rule, whether read from a record or computed.
func TestDecoderKeysAreTheExportedOnes(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join(samples, "Sessions_*"))
	require.NoError(t, err)
	str := func(v any) string { s, _ := v.(string); return s }
	for _, p := range paths {
		data, err := os.ReadFile(p)
		require.NoError(t, err)
		for _, row := range decode(t, data, Config{File: p}).rows {
			auth, ident, client := str(row["authenticated_user"]), str(row["identifying_user"]), str(row["client_machine_id"])
			require.Equal(t, UserKey(auth, ident, client), row["user_key"], p)
			require.Equal(t, UserDisplay(auth, ident, client), row["user"], p)
			require.Equal(t, DocumentKey(str(row["document"])), row["document_key"], p)
		}
	}
}
