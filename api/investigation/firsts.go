package investigation

// firsts keeps the first value of each key, in the order they come, up
// to limit values (0: no limit): the one way this package drops
// repeated rows.
type firsts[T any] struct {
	seen  map[string]bool
	list  []T
	limit int
}

// add keeps v unless its key came before or the list is full.
func (f *firsts[T]) add(key string, v T) {
	if f.seen[key] || f.limit > 0 && len(f.list) >= f.limit {
		return
	}
	if f.seen == nil {
		f.seen = map[string]bool{}
	}
	f.seen[key] = true
	f.list = append(f.list, v)
}
