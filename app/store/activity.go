package store

import (
	"errors"
	"strings"
	"sync"

	"granttrack/models"
)

// activity counts what this store has done since it was opened, for
// monitoring (GET /metrics): decisions by kind and outcome, and imports by
// outcome with the rows they stored. A store made for a transaction shares
// its parent's. Counts are of calls that returned, so a decision inside an
// InTx whose later step fails is still counted.
type activity struct {
	mu           sync.Mutex
	decisions    map[DecisionCount]float64
	imports      map[string]float64
	importedRows float64
}

// DecisionCount is one series of decisions: its kind (the entity decided,
// such as spend_entry, spend_import, award, line_decision) and its outcome
// (approved, rejected, withdrawn, or refused when the decider was not
// allowed: maker-checker or the scheme of delegation).
type DecisionCount struct{ Kind, Outcome string }

// Activity is a snapshot of the store's counts.
type Activity struct {
	Decisions map[DecisionCount]float64
	// Imports by outcome: stored, refused (bad rows or file), duplicate
	// (imported before, not forced) or failed; ImportedRows are the rows of
	// the stored ones.
	Imports      map[string]float64
	ImportedRows float64
}

// Activity returns what the store has counted since it was opened.
func (s *Store) Activity() Activity {
	a := s.activity
	a.mu.Lock()
	defer a.mu.Unlock()
	out := Activity{Decisions: make(map[DecisionCount]float64, len(a.decisions)), Imports: make(map[string]float64, len(a.imports)),
		ImportedRows: a.importedRows}
	for k, v := range a.decisions {
		out.Decisions[k] = v
	}
	for k, v := range a.imports {
		out.Imports[k] = v
	}
	return out
}

func newActivity() *activity {
	return &activity{decisions: map[DecisionCount]float64{}, imports: map[string]float64{}}
}

// countDecision counts the end of a decision on kind by action (whose last
// word says what was decided: spend.approve, award.reject,
// spend.approve_import): its outcome, or refused when err is EFORBIDDEN.
// Other failures (not found, conflicts, over budget) decided nothing.
func (a *activity) countDecision(kind, action string, err error) {
	var outcome string
	switch {
	case models.ErrorCode(err) == models.EFORBIDDEN:
		outcome = "refused"
	case err != nil:
		return
	default:
		verb, _, _ := strings.Cut(action[strings.LastIndexByte(action, '.')+1:], "_")
		outcome = decisionOutcomes[verb]
		if outcome == "" {
			outcome = verb
		}
	}
	a.mu.Lock()
	a.decisions[DecisionCount{kind, outcome}]++
	a.mu.Unlock()
}

// decisionOutcomes names the outcome of each verb a decision's action ends in.
var decisionOutcomes = map[string]string{"approve": "approved", "reject": "rejected", "withdraw": "withdrawn"}

// countImport counts an import's outcome, and its rows if it was stored.
func (a *activity) countImport(res *ImportResult, err error) {
	var ie *ImportError
	outcome := "stored"
	switch {
	case err == nil:
	case errors.As(err, &ie) || models.ErrorCode(err) == models.EINVALID:
		outcome = "refused"
	case models.ErrorCode(err) == models.ECONFLICT:
		outcome = "duplicate"
	default:
		outcome = "failed"
	}
	a.mu.Lock()
	a.imports[outcome]++
	if err == nil {
		a.importedRows += float64(res.Rows)
	}
	a.mu.Unlock()
}
