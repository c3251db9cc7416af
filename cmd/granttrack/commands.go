package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"granttrack/app"
	"granttrack/app/auth"
	"granttrack/app/demo"
	"granttrack/app/store"
	"granttrack/migrations"
	"granttrack/models"
)

const usage = `granttrack: grant funding tracker

Usage:
  granttrack demo    [--addr 127.0.0.1:8080] [--data-dir var]   serve with the demo data loaded
  granttrack serve   [--addr 127.0.0.1:8080] [--data-dir var]   serve the web app and API
  granttrack migrate up|down|status [--data-dir var] [--owner-url URL] [--destroy-ledger]
  granttrack user add --email E --name N --role R            password from stdin, or generated; a role that approves
                      [--proposed-by ADMIN_EMAIL --reason R]     money waits for a second admin's approval of its grant
  granttrack user sso --email E --subject S | --unlink       links a user to their account at the identity provider (single sign-on)
  granttrack token create --email E [--name N]                prints a new API token
  granttrack audit verify [--anchor HASH@SEQ]                 checks the audit trail's hash chain (and that it still holds an export's head)
  granttrack backup --out FILE                               the whole database as a pg_dump archive, with FILE.manifest.json
  granttrack backup --base --wal-archive DIR                 a new base backup into the WAL archive
  granttrack restore FILE [--manifest M]                      restores a backup into an empty data dir or empty DATABASE_URL
  granttrack restore --until TIME --wal-archive DIR           restores the private cluster as it was at TIME (RFC 3339) into an empty data dir
  granttrack import spend FILE.csv --as EMAIL [--force]       records a CSV of spend as pending, all or nothing
  granttrack export ledger --format csv|json|xlsx|hledger|beancount|360giving|ocds [--fy 2024-25] [--excel] [--out FILE]
                                                              the spend ledger, or grants (360Giving) or contracts (OCDS), with a manifest
  granttrack export audit [--out FILE]                        the audit trail as JSON Lines, checkable offline (app/export/verifier)
  granttrack export transparency --month 2024-06 [--out DIR]   the statutory publishing pack: CSVs and index.html
  granttrack export verify FILE [--manifest FILE.manifest.json]   checks an export against its manifest, the ledger and the audit chain
  granttrack alerts [--email] [--base-url URL]                  prints each user's alerts; --email sends each a digest (GRANTTRACK_SMTP_URL)
  granttrack bench spend [--clients 1,8,32] [--n 3000]        measures recording throughput
  granttrack bench import [--rows 1000000]                    measures CSV import against raw COPY
  granttrack bench export [--rows 1000000] [--format csv]     measures a ledger export against COPY TO, and its memory
  granttrack bench report [--fy 2024-25] [--runs 10]          measures the budget report and dashboard on 1,000,000 entries
                                                              (benches run only in a scratch database they make: a new or
                                                              empty --data-dir, or a new database on DATABASE_URL's server)

Without DATABASE_URL, granttrack runs a private PostgreSQL cluster in the data dir.
DATABASE_URL is the application role; GRANTTRACK_OWNER_DATABASE_URL (--owner-url), the schema's owner, is for migrate.
`

// Main runs one subcommand and returns the process exit code. It is the whole
// program, so tests can run it without building a binary.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stdout, usage)
		return 0
	}
	cfg, err := app.LoadConfig(getenv)
	if err != nil {
		fmt.Fprintln(stderr, "granttrack:", err)
		return 2
	}
	cmd := &command{ctx: ctx, cfg: cfg, stdin: stdin, stdout: stdout, stderr: stderr}
	run := map[string]func([]string) error{
		"serve":   func(a []string) error { return cmd.serve(a, false) },
		"demo":    func(a []string) error { return cmd.serve(a, true) },
		"migrate": cmd.migrate,
		"user":    cmd.user,
		"token":   cmd.token,
		"audit":   cmd.audit,
		"import":  cmd.importCmd,
		"bench":   cmd.benchCmd,
		"export":  cmd.exportCmd,
		"backup":  cmd.backupCmd,
		"restore": cmd.restoreCmd,
		"alerts":  cmd.alertsCmd,
	}[args[0]]
	if run == nil {
		fmt.Fprintf(stderr, "granttrack: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if err := run(args[1:]); err != nil {
		var usageErr usageError
		if errors.As(err, &usageErr) {
			fmt.Fprintf(stderr, "granttrack: %v\n", err)
			return 2
		}
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "granttrack:", describe(err))
		return 1
	}
	return 0
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// describe shows a coded error's message and fields the way a person reads them.
func describe(err error) string {
	var me *models.Error
	if !errors.As(err, &me) || me.Code == models.EINTERNAL {
		return err.Error()
	}
	var b strings.Builder
	b.WriteString(me.Message)
	for _, f := range me.Fields {
		fmt.Fprintf(&b, "\n  %s: %s", f.Field, f.Message)
	}
	return b.String()
}

type command struct {
	ctx            context.Context
	cfg            app.Config
	stdin          io.Reader
	stdout, stderr io.Writer
	dataDirSet     bool // --data-dir was given
}

func (c *command) flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.Func("data-dir", "data directory of the private PostgreSQL cluster (GRANTTRACK_DATA_DIR; default "+c.cfg.DataDir+")", func(v string) error {
		c.cfg.DataDir, c.dataDirSet = v, true
		return nil
	})
	fs.StringVar(&c.cfg.WALArchive, "wal-archive", c.cfg.WALArchive, "directory the private cluster archives its WAL into, for point-in-time restore (GRANTTRACK_WAL_ARCHIVE)")
	return fs
}

// checkTarget refuses --data-dir beside DATABASE_URL: the command would
// otherwise act on the server DATABASE_URL names, not on that data dir.
func (c *command) checkTarget() error {
	if c.dataDirSet && c.cfg.DatabaseURL != "" {
		return usageError{"--data-dir names a private cluster, but DATABASE_URL is set and names a server; give one or the other"}
	}
	return nil
}

func (c *command) logger() *slog.Logger {
	return c.cfg.Logger(c.stderr)
}

// open reaches the database as the application role: the private cluster
// (migrated first, as its owner), or DATABASE_URL's server, whose schema
// must be current.
func (c *command) open() (*app.App, error) {
	if err := c.checkTarget(); err != nil {
		return nil, err
	}
	return app.Open(c.ctx, c.cfg, c.logger())
}

func (c *command) serve(args []string, withDemo bool) error {
	name := "serve"
	if withDemo {
		name = "demo"
	}
	fs := c.flags(name)
	fs.StringVar(&c.cfg.Addr, "addr", c.cfg.Addr, "address to serve on (GRANTTRACK_ADDR)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	start := time.Now()
	a, err := c.open()
	if err != nil {
		return err
	}
	defer a.Close()
	if withDemo {
		loaded, err := demo.LoadIntoEmpty(c.ctx, a.Store)
		if err != nil {
			return err
		}
		if loaded {
			fmt.Fprintln(c.stdout, "Demo data loaded.")
		} else {
			fmt.Fprintln(c.stdout, "Demo data already present; kept as it is.")
		}
	}
	srv, err := a.Server()
	if err != nil {
		return err
	}
	// Listen before saying "ready", so the address answers when we say it does.
	ln, err := net.Listen("tcp", c.cfg.Addr)
	if err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	// Background verification stops before the database closes.
	verifying, stopVerifying := context.WithCancel(c.ctx)
	verified := make(chan struct{})
	go func() { defer close(verified); a.VerifyInBackground(verifying) }()
	defer func() { stopVerifying(); <-verified }()
	fmt.Fprintf(c.stdout, "granttrack is ready at http://%s/ (started in %s)\n", c.cfg.Addr, time.Since(start).Round(time.Millisecond))
	if withDemo {
		fmt.Fprintln(c.stdout, "Demo sign-ins (password "+demo.Password+"):")
		for _, u := range demo.Users {
			fmt.Fprintf(c.stdout, "  %-17s %s\n", u.Role, u.Email)
		}
		fmt.Fprintf(c.stdout, "  %-17s %s (approves nothing until the second admin approves its grant on /approvals)\n",
			demo.AwaitingGrant.Role, demo.AwaitingGrant.Email)
		fmt.Fprintf(c.stdout, "Two-factor: the demo asks it of the %s role only; %s is enrolled: after the password, type the code an authenticator app shows for the TOTP secret %s\n",
			demo.TwoFactorRoles[0], demo.Users[demo.Auditor].Email, demo.TOTPSecret)
		fmt.Fprintln(c.stdout, "API token: granttrack token create --email "+demo.Users[1].Email)
	}
	fmt.Fprintln(c.stdout, "Press Ctrl-C to stop.")
	select {
	case err := <-errc:
		return err
	case <-c.ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	// A client (or a load balancer) may hold connections open that never
	// send a request; they do not hold the stop up beyond the wait.
	if err := srv.Shutdown(shutdown); errors.Is(err, context.DeadlineExceeded) {
		fmt.Fprintln(c.stdout, "Stopped. Connections still open after 15 s were closed.")
		return nil
	} else if err != nil {
		return err
	}
	fmt.Fprintln(c.stdout, "Stopped.")
	return nil
}

// migrate runs as the schema's owner: the private cluster's, or
// GRANTTRACK_OWNER_DATABASE_URL (--owner-url) beside DATABASE_URL.
func (c *command) migrate(args []string) error {
	if len(args) == 0 {
		return usageError{"migrate needs up, down or status"}
	}
	fs := c.flags("migrate " + args[0])
	fs.StringVar(&c.cfg.OwnerURL, "owner-url", c.cfg.OwnerURL, "the schema owner's connection to DATABASE_URL's database (GRANTTRACK_OWNER_DATABASE_URL)")
	destroy := fs.Bool("destroy-ledger", false, "let migrate down roll back while the ledger holds spend entries and audit events, destroying them")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if err := c.checkTarget(); err != nil {
		return err
	}
	if c.cfg.OwnerURL != "" && c.cfg.DatabaseURL == "" {
		return usageError{"--owner-url needs DATABASE_URL too: the application role it names is the one migrate grants privileges to"}
	}
	a, err := app.OpenOwner(c.ctx, c.cfg, c.logger())
	if err != nil {
		return err
	}
	defer a.Close()
	db := a.Store.DB()
	switch args[0] {
	case "up":
		// What was applied, not what was pending before: another node's
		// migrate may have taken the lock first and done it.
		applied, err := a.Migrate(c.ctx)
		if err != nil {
			return err
		}
		if len(applied) == 0 {
			fmt.Fprintln(c.stdout, "Nothing to migrate: the schema is up to date. Privileges granted again.")
		} else {
			fmt.Fprintf(c.stdout, "Migrated: %s\n", strings.Join(applied, ", "))
		}
	case "down":
		if !*destroy {
			if err := refuseWithLedger(c.ctx, a.Store); err != nil {
				return err
			}
		}
		g, err := migrations.Down(c.ctx, db)
		if err != nil {
			return err
		}
		if g.IsZero() {
			fmt.Fprintln(c.stdout, "Nothing to roll back.")
		} else {
			fmt.Fprintf(c.stdout, "Rolled back group %d: %s\n", g.ID, g.Migrations)
		}
	case "status":
		ms, err := migrations.Status(c.ctx, db)
		if err != nil {
			return err
		}
		for _, m := range ms {
			state := "pending"
			if m.IsApplied() {
				state = fmt.Sprintf("applied (group %d)", m.GroupID)
			}
			fmt.Fprintf(c.stdout, "%s  %s\n", m.Name, state)
		}
	default:
		return usageError{fmt.Sprintf("migrate %q: use up, down or status", args[0])}
	}
	return nil
}

// refuseWithLedger returns an error naming what a rollback would destroy
// while the ledger or the audit trail holds anything.
func refuseWithLedger(ctx context.Context, st *store.Store) error {
	var entries, events int64
	err := st.DB().NewRaw("SELECT (SELECT count(*) FROM spend_entries), (SELECT count(*) FROM audit_events)").Scan(ctx, &entries, &events)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P01" { // undefined_table: nothing left to lose
		return nil
	} else if err != nil {
		return err
	}
	if entries == 0 && events == 0 {
		return nil
	}
	return fmt.Errorf("refusing to roll back: the ledger holds %d spend entries and the audit trail %d events, which rolling back the schema can destroy for good; "+
		"back the database up, and if destroying them is what you want, run migrate down --destroy-ledger", entries, events)
}

func (c *command) user(args []string) error {
	if len(args) > 0 && args[0] == "sso" {
		return c.userSSO(args[1:])
	}
	if len(args) == 0 || args[0] != "add" {
		return usageError{"user needs add"}
	}
	fs := c.flags("user add")
	var in models.UserInput
	var proposer, reason string
	fs.StringVar(&in.Email, "email", "", "email address")
	fs.StringVar(&in.Name, "name", "", "full name")
	fs.StringVar(&in.Role, "role", "", "admin, finance_officer, finance_manager, board_member or auditor")
	fs.StringVar(&proposer, "proposed-by", "", "for a role that approves money: the email of the admin proposing the grant")
	fs.StringVar(&reason, "reason", "", "for a role that approves money: why the account needs it")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	u, err := in.Validate()
	if err != nil {
		return err
	}
	// A role that approves money is a two-admin decision here as on the
	// web: one admin proposes the grant, another approves it. Admins
	// themselves (the first one above all) are added without one.
	if u.Role.HoldsMoneyAuthority() && proposer == "" {
		return models.Errorf(models.EINVALID, "The %s role approves money, so one admin proposes the grant and a second admin approves it: "+
			"run user add again with --proposed-by ADMIN_EMAIL --reason REASON (the account approves nothing until another admin approves "+
			"the grant on /approvals), or add the account on /users while signed in as an admin.", u.Role)
	}
	password, generated, err := c.readPassword()
	if err != nil {
		return err
	}
	if u.PasswordHash, err = auth.HashPassword(password); err != nil {
		return err
	}
	a, err := c.open()
	if err != nil {
		return err
	}
	defer a.Close()
	if proposer == "" {
		if err := a.Store.CreateUser(c.ctx, models.SystemActor("user add"), u); err != nil {
			return err
		}
	} else {
		admin, err := a.Store.UserByEmail(c.ctx, proposer)
		if err != nil {
			return err
		}
		if !admin.Active {
			return models.Errorf(models.EFORBIDDEN, "%s is deactivated and proposes nothing.", admin.Email)
		}
		g, err := a.Store.AddAccount(c.ctx, models.Actor{UserID: admin.ID, Label: admin.Email, Role: admin.Role, RequestID: "user add"}, u, reason)
		if err != nil {
			return err
		}
		if g != nil {
			defer fmt.Fprintf(c.stdout, "Its %s authority waits for a second admin (not %s) to approve grant %d on /approvals "+
				"(or POST /api/v1/account-grants/%d/approve); until then it approves nothing.\n", u.Role, admin.Email, g.ID, g.ID)
		}
	}
	fmt.Fprintf(c.stdout, "Added %s (%s) as %s.\n", u.Name, u.Email, u.Role)
	if generated {
		fmt.Fprintf(c.stdout, "Password (shown once): %s\n", password)
	}
	return nil
}

// readPassword takes the first line of standard input as the password, or
// generates one when standard input is a terminal or empty.
func (c *command) readPassword() (password string, generated bool, err error) {
	if c.stdin != nil && !isTerminal(c.stdin) {
		line, err := bufio.NewReader(c.stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", false, err
		}
		if line = strings.TrimRight(line, "\r\n"); line != "" {
			if msg := auth.CheckPassword(line); msg != "" {
				return "", false, models.Errorf(models.EINVALID, "The password %s.", msg)
			}
			return line, false, nil
		}
	}
	return auth.NewPassword(), true, nil
}

func (c *command) token(args []string) error {
	if len(args) == 0 || args[0] != "create" {
		return usageError{"token needs create"}
	}
	fs := c.flags("token create")
	email := fs.String("email", "", "the user the token acts as")
	name := fs.String("name", "", "what the token is for")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *email == "" {
		return usageError{"token create needs --email"}
	}
	a, err := c.open()
	if err != nil {
		return err
	}
	defer a.Close()
	u, err := a.Store.UserByEmail(c.ctx, *email)
	if err != nil {
		return err
	}
	token := auth.NewAPIToken()
	if _, err := a.Store.CreateAPIToken(c.ctx, models.SystemActor("token create"), u.ID, *name, token); err != nil {
		return err
	}
	fmt.Fprintln(c.stdout, token)
	return nil
}

func (c *command) audit(args []string) error {
	if len(args) == 0 || args[0] != "verify" {
		return usageError{"audit needs verify"}
	}
	fs := c.flags("audit verify")
	var raw repeated
	fs.Var(&raw, "anchor", "HASH@SEQ from an export's manifest (audit_head_hash@audit_head_seq): the event at SEQ must still have HASH; repeatable")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageError{"usage: granttrack audit verify [--anchor HASH@SEQ]"}
	}
	var anchors []models.AuditAnchor
	for _, v := range raw {
		a, err := models.ParseAuditAnchor(v)
		if err != nil {
			return usageError{fmt.Sprintf("--anchor %q: the anchor %s", v, strings.TrimPrefix(models.ErrorMessage(err), "The anchor "))}
		}
		anchors = append(anchors, a)
	}
	a, err := c.open()
	if err != nil {
		return err
	}
	defer a.Close()
	st, err := a.Store.VerifyAuditChain(c.ctx, anchors...)
	if err != nil {
		return err
	}
	ledger, err := a.Store.VerifyLedger(c.ctx)
	if err != nil {
		return err
	}
	if err := a.Store.RecordEvent(c.ctx, models.SystemActor("audit verify"), store.Change{Action: "audit.verify", Entity: "audit_chain",
		After: map[string]any{"chain": st, "ledger": ledger}}); err != nil {
		return err
	}
	if !st.OK {
		return fmt.Errorf("audit chain BROKEN at sequence %d: %s", st.BrokenSeq, st.Reason)
	}
	fmt.Fprintf(c.stdout, "audit chain OK: %d events, head %d %s\n", st.Count, st.HeadSeq, st.HeadHash)
	for _, a := range st.Anchors {
		fmt.Fprintf(c.stdout, "anchor %s: the event is still in the chain\n", a)
	}
	if !ledger.OK {
		for _, f := range ledger.Findings {
			fmt.Fprintf(c.stderr, "  spend entry %d: %s\n", f.EntryID, f.Problem)
		}
		if ledger.More > 0 {
			fmt.Fprintf(c.stderr, "  and %d more\n", ledger.More)
		}
		return errors.New(ledger.Summary())
	}
	fmt.Fprintln(c.stdout, ledger.Summary())
	return nil
}

// parseWithFile parses args, which hold one file among the flags: before
// them, as people tend to write it, or after. It returns the file, or "" if
// none was given; anything left over stays in fs.Args.
func parseWithFile(fs *flag.FlagSet, args []string) (string, error) {
	if err := fs.Parse(args); err != nil {
		return "", err
	}
	if fs.NArg() == 0 {
		return "", nil
	}
	file := fs.Arg(0)
	return file, fs.Parse(fs.Args()[1:])
}

// repeated is a flag that may be given more than once.
type repeated []string

func (r *repeated) String() string     { return strings.Join(*r, ",") }
func (r *repeated) Set(v string) error { *r = append(*r, v); return nil }
