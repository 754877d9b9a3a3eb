package ipdb

import (
	"fmt"
	"os"
	"sync"
	"sync/atomic"
)

// Reloader keeps the DB of a set of files current: Check reloads it when
// a file changed (size or modification time), Reload always does. Lookups
// read the current DB without locks and never wait for a load; a load
// that fails keeps the DB before it.
type Reloader struct {
	files     Files
	maxRanges int
	cur       atomic.Pointer[DB]

	mu  sync.Mutex // one load at a time
	sig string     // the files' sizes and times at the last load
}

// NewReloader loads files once; an error leaves a Reloader without a DB
// (lookups answer nothing) that a later Check may fill.
func NewReloader(files Files, maxRanges int) (*Reloader, error) {
	r := &Reloader{files: files, maxRanges: maxRanges}
	_, err := r.Reload()
	return r, err
}

// DB is the current database, nil before the first successful load.
func (r *Reloader) DB() *DB { return r.cur.Load() }

// Check reloads the files if any changed since the last load.
func (r *Reloader) Check() (reloaded bool, err error) {
	sig, err := signature(r.files)
	if err != nil {
		return false, err
	}
	r.mu.Lock()
	same := sig == r.sig && r.cur.Load() != nil
	r.mu.Unlock()
	if same {
		return false, nil
	}
	return r.Reload()
}

// Reload loads the files and swaps the new DB in.
func (r *Reloader) Reload() (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	sig, err := signature(r.files)
	if err != nil {
		return false, err
	}
	db, err := Load(r.files, r.maxRanges)
	if err != nil {
		return false, err
	}
	r.cur.Store(db)
	r.sig = sig
	return true, nil
}

// signature identifies the files' current versions.
func signature(files Files) (string, error) {
	var s string
	for _, list := range [][]string{files.ASN, files.Country} {
		for _, f := range list {
			fi, err := os.Stat(f)
			if err != nil {
				return "", fmt.Errorf("ipdb: %w", err)
			}
			s += fmt.Sprintf("%s %d %d\n", f, fi.Size(), fi.ModTime().UnixNano())
		}
	}
	return s, nil
}
