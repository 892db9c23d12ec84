package metering

// growTo returns s long enough to be indexed by id, the new slots set to
// fill: the engine's per-user, per-client and per-server tables are slices
// indexed by dictionary id, grown as ids appear.
func growTo[T any](s []T, id uint32, fill T) []T {
	for int(id) >= len(s) {
		s = append(s, fill)
	}
	return s
}
