//go:build !unix

package ingest

// openNonBlocking is not needed where opening a file cannot block.
const openNonBlocking = 0
