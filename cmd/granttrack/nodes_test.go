package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"granttrack/app/pgtest"
	"granttrack/app/store"
	"granttrack/app/store/storetest"
	"granttrack/models"
)

// TestTwoNodesOnOnePostgreSQL runs two serve processes on one external
// PostgreSQL, as two app nodes behind a load balancer would, and sends
// each request to either at random: migrations started on both at once,
// racing approvals that could overspend, retries of one Idempotency-Key,
// and a web session made on one node and used on the other.
func TestTwoNodesOnOnePostgreSQL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary twice")
	}
	ctx := context.Background()
	dsn := pgtest.Fresh(t)

	// Both nodes' operators run migrate up at once: one migrates, the
	// other waits for it and finds nothing left to do.
	var wg sync.WaitGroup
	codes := make([]int, 2)
	outs := make([]string, 2)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var errOut string
			codes[i], outs[i], errOut = granttrackOn(t, dsn, "", "migrate", "up")
			outs[i] += errOut
		}()
	}
	wg.Wait()
	if codes[0] != 0 || codes[1] != 0 || strings.Count(outs[0]+outs[1], "Migrated: ") != 1 || strings.Count(outs[0]+outs[1], "Nothing to migrate") != 1 {
		t.Fatalf("two migrate up at once: %v\n%s\n%s", codes, outs[0], outs[1])
	}

	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	fl := storetest.ActiveLine(t, st, storetest.LineSpec{Code: "NODES", PayeeName: "Two Nodes Trust", Budget: "500.00",
		StartsOn: "2024-04-01", EndsOn: "2025-03-31"})
	const password = "a long enough password"
	tokens := map[string]string{}
	for _, who := range []string{"maker", "checker1", "checker2"} {
		email := who + "@nodes.example"
		userAddMoney(t, dsn, password, email, who)
		code, out, errOut := granttrackOn(t, dsn, "", "token", "create", "--email", email)
		if code != 0 {
			t.Fatalf("token create %s: %s", who, errOut)
		}
		tokens[who] = strings.TrimSpace(out)
	}

	bin := buildBinary(t)
	env := append(cleanEnv(), "DATABASE_URL="+dsn, "GRANTTRACK_VERIFY_EVERY=2s")
	nodes := []string{"http://" + freeAddr(t), "http://" + freeAddr(t)}
	for _, n := range nodes {
		p := startProcess(t, bin, env, "serve", "--addr", strings.TrimPrefix(n, "http://"))
		defer p.stop(t)
	}
	anyNode := func() string { return nodes[rand.IntN(len(nodes))] }
	call := func(token, method, path string, body any, header ...string) (int, []byte) {
		t.Helper()
		var r io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			r = bytes.NewReader(b)
		}
		req, _ := http.NewRequest(method, anyNode()+path, r)
		req.Header.Set("Authorization", "Bearer "+token)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			return 0, nil
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, out
	}
	spend := func(amount, ref string) map[string]any {
		return map[string]any{"funding_line_id": fl.ID, "payee_id": fl.Payee.ID, "amount": amount, "incurred_on": "2024-06-03",
			"category": "other", "reference": ref}
	}

	// Racing approvals: 60 entries of £10.00 on a £500.00 line, approved
	// by two checkers at once through both nodes. Exactly 50 fit.
	var ids []int64
	for i := range 60 {
		code, body := call(tokens["maker"], "POST", "/api/v1/spend", spend("10.00", fmt.Sprintf("RACE-%d", i)))
		var e struct{ ID int64 }
		if code != 201 || json.Unmarshal(body, &e) != nil {
			t.Fatalf("record spend %d: %d %s", i, code, body)
		}
		ids = append(ids, e.ID)
	}
	var mu sync.Mutex
	statuses := map[int]int{}
	for _, checker := range []string{"checker1", "checker2"} {
		for _, id := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				code, body := call(tokens[checker], "POST", fmt.Sprintf("/api/v1/spend/%d/approve", id), nil)
				mu.Lock()
				defer mu.Unlock()
				statuses[code]++
				if code != 200 && code != 409 && code != 422 {
					t.Errorf("approve %d: %d %s", id, code, body)
				}
			}()
		}
	}
	wg.Wait()
	var approved int
	var total string
	if err := st.DB().NewRaw("SELECT count(*), coalesce(sum(amount), 0)::text FROM spend_entries WHERE funding_line_id = ? AND status = 'approved'", fl.ID).
		Scan(ctx, &approved, &total); err != nil {
		t.Fatal(err)
	}
	if approved != 50 || total != "500.00" || statuses[200] != 50 {
		t.Fatalf("racing approvals on two nodes: %d approved for %s (answers %v); want exactly 50 for 500.00", approved, total, statuses)
	}

	// Retries of one Idempotency-Key, four at once to either node: one
	// entry per key, and every answer names it. (The line is now spent,
	// but recording is not approving: a pending entry is still recorded.)
	keys := map[string][]int64{}
	for k := range 10 {
		key := fmt.Sprintf("retry-%d", k)
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				code, body := call(tokens["maker"], "POST", "/api/v1/spend", spend("1.00", "RETRY-"+key), "Idempotency-Key", key)
				var e struct{ ID int64 }
				if (code != 201 && code != 200) || json.Unmarshal(body, &e) != nil {
					t.Errorf("retry of %s: %d %s", key, code, body)
				}
				mu.Lock()
				defer mu.Unlock()
				keys[key] = append(keys[key], e.ID)
			}()
		}
	}
	wg.Wait()
	for key, got := range keys {
		if len(got) != 4 || got[0] == 0 || got[1] != got[0] || got[2] != got[0] || got[3] != got[0] {
			t.Errorf("the answers to key %s name entries %v; want one entry four times", key, got)
		}
		var n int
		if err := st.DB().NewRaw("SELECT count(*) FROM spend_entries WHERE reference = ?", "RETRY-"+key).Scan(ctx, &n); err != nil || n != 1 {
			t.Errorf("key %s made %d entries (%v); want 1", key, n, err)
		}
	}

	// A web session made on one node works on the other: sessions and the
	// key that signs CSRF tokens live in PostgreSQL.
	// Two-factor is off here: the maker signs in with the password alone.
	if _, err := st.SetTwoFactorRoles(ctx, models.SystemActor("test"), nil); err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(node, path string) (int, string) {
		t.Helper()
		resp, err := browser.Get(node + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	// Both nodes are on 127.0.0.1, so the jar sends node 0's cookies to
	// node 1 as a browser behind one load-balanced name would.
	_, login := get(nodes[0], "/login")
	csrf := regexp.MustCompile(`name="_csrf" value="([^"]+)"`).FindStringSubmatch(login)
	if csrf == nil {
		t.Fatalf("no CSRF token on node 0's sign-in page:\n%s", login)
	}
	resp, err := browser.PostForm(nodes[1]+"/login", url.Values{"_csrf": {csrf[1]}, "email": {"maker@nodes.example"}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("signing in on node 1 with node 0's form: %d", resp.StatusCode)
	}
	for _, n := range nodes {
		if code, body := get(n, "/spend"); code != 200 || !strings.Contains(body, "<small>maker · Finance officer</small>") {
			t.Fatalf("the session made on node 1, used on %s: %d\n%.1500s", n, code, body)
		}
	}

	// A load balancer closes its idle connections when a node is drained.
	http.DefaultClient.CloseIdleConnections()
	browser.CloseIdleConnections()

	// Background verification ran on the nodes, once at a time, on the
	// same kept runs.
	v, err := st.LastVerification(ctx)
	if err != nil || v.Full == nil || !v.OK() {
		t.Fatalf("background verification by the nodes: %+v %v", v, err)
	}
}
