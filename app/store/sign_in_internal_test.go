package store

import (
	"testing"
	"time"
)

func TestSignInLockDoublesUpToItsMaximum(t *testing.T) {
	l := SignInLimit{Scope: SignInByAccount, Failures: 5, Lock: time.Minute, MaxLock: time.Hour}
	for failures, want := range map[int]time.Duration{0: 0, 4: 0, 5: time.Minute, 6: 2 * time.Minute, 7: 4 * time.Minute,
		10: 32 * time.Minute, 11: time.Hour, 12: time.Hour, 500: time.Hour} {
		if got := l.lockAfter(failures); got != want {
			t.Errorf("lock after %d failures = %v, want %v", failures, got, want)
		}
	}
}
