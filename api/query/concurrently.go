package query

import (
	"sync"
)

// Concurrently runs fns at once and waits for them all. The error is the
// first in fns' order, so that a request whose queries fail answers the
// same whichever failed first.
func Concurrently(fns ...func() error) error {
	errs := make([]error, len(fns))
	var wg sync.WaitGroup
	for i, f := range fns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f()
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
