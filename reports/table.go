package reports

import (
	"database/sql"
	"fmt"
	"time"
)

// Kind is the type of a column's values, as a writer sees them.
type Kind int

// Column kinds and the Go type of their non-null values in Table.Rows.
const (
	String Kind = iota // string
	Int                // int64
	Float              // float64
	Bool               // bool
	Time               // time.Time, UTC
)

func (k Kind) String() string {
	return [...]string{"string", "integer", "number", "boolean", "time"}[k]
}

// Column is one column of a report: its name (the contract), the type of
// its values and what it means.
type Column struct {
	Name string
	Kind Kind
	Doc  string
}

// Table is a report's result: columns in order, and rows whose values are
// nil (null) or the Go type of their column's Kind.
type Table struct {
	Report  string
	Columns []Column
	Rows    [][]any
	// Vertical asks the table format to print one line per column (for
	// one-row reports such as summary).
	Vertical bool
}

// kindOf maps a DuckDB result type to a Kind; other types must be cast in
// the report's SQL.
func kindOf(duckType string) (Kind, bool) {
	switch duckType {
	case "VARCHAR":
		return String, true
	case "BIGINT", "INTEGER", "SMALLINT", "TINYINT", "UINTEGER", "USMALLINT", "UTINYINT":
		return Int, true
	case "DOUBLE", "FLOAT":
		return Float, true
	case "BOOLEAN":
		return Bool, true
	case "TIMESTAMP", "DATE":
		return Time, true
	}
	return 0, false
}

// scanTable reads every row of rows into a Table, documenting each column
// from the report's Columns. A column the report does not document, or
// whose type has no Kind, is an error: the columns are a contract.
func scanTable(rows *sql.Rows, r *Report) (*Table, error) {
	types, err := rows.ColumnTypes()
	if err != nil {
		return nil, err
	}
	t := &Table{Report: r.Name, Vertical: r.Vertical}
	for _, ct := range types {
		doc, ok := r.column(ct.Name())
		if !ok {
			return nil, fmt.Errorf("report %s: column %q is not documented", r.Name, ct.Name())
		}
		kind, ok := kindOf(ct.DatabaseTypeName())
		if !ok || kind != doc.Kind {
			return nil, fmt.Errorf("report %s: column %q has type %s, documented as %s", r.Name, ct.Name(), ct.DatabaseTypeName(), doc.Kind)
		}
		t.Columns = append(t.Columns, doc)
	}
	for rows.Next() {
		row := make([]any, len(types))
		ptrs := make([]any, len(types))
		for i := range row {
			ptrs[i] = &row[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		for i, v := range row {
			row[i] = normalize(v)
		}
		t.Rows = append(t.Rows, row)
	}
	return t, rows.Err()
}

// normalize turns the driver's value into the Go type of its Kind.
func normalize(v any) any {
	switch v := v.(type) {
	case int32:
		return int64(v)
	case int16:
		return int64(v)
	case int8:
		return int64(v)
	case uint32:
		return int64(v)
	case uint16:
		return int64(v)
	case uint8:
		return int64(v)
	case float32:
		return float64(v)
	case time.Time:
		return v.UTC()
	}
	return v
}
