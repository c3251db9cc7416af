package main

import (
	"os"
)

// isTerminal reports whether r is an interactive terminal, where no password
// is piped in.
func isTerminal(r any) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
