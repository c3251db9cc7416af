// Package app assembles granttrack: configuration, the database (a private
// PostgreSQL cluster or DATABASE_URL), migrations, the store and the server.
// The command line calls into it, and so can a test, to run the whole program.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"granttrack/app/auth"
	"granttrack/app/backup"
	"granttrack/app/export"
	"granttrack/app/pgembed"
	"granttrack/app/server"
	"granttrack/app/store"
	"granttrack/migrations"
	"granttrack/models"
)

// Config is granttrack's configuration, read from the environment and flags.
type Config struct {
	DatabaseURL   string // use this server, as the application role; empty starts a private cluster
	OwnerURL      string // the schema owner's connection to the same database, for migrate only
	DataDir       string // where the private cluster lives
	WALArchive    string // where the private cluster archives its WAL; empty: no archiving
	Addr          string // where to serve HTTP
	SecureCookies bool   // set when served over HTTPS
	LogLevel      slog.Level
	LogJSON       bool // logs as JSON lines (GRANTTRACK_LOG_FORMAT=json), else as text
	// ApprovalLimit seeds the scheme of delegation's spend limit for finance
	// officers in a new database (one without users); after that the scheme
	// changes only through a delegation change two admins make.
	ApprovalLimit decimal.Decimal
	// TrustedProxies are the reverse proxies whose X-Forwarded-For is believed
	// (GRANTTRACK_TRUSTED_PROXIES: addresses or CIDR ranges, comma-separated).
	TrustedProxies []netip.Prefix
	// VerifyEvery is how often serve checks the audit events and spend
	// entries added since the last check (GRANTTRACK_VERIFY_EVERY; 0 turns
	// background verification off); FullVerifyEvery is how often it checks
	// everything again from the first event (GRANTTRACK_FULL_VERIFY_EVERY).
	VerifyEvery, FullVerifyEvery time.Duration
	// ReadURL is a streaming replica of DATABASE_URL's database that
	// reports, the dashboard, the board pack and exports read from while it
	// is at most ReplicaMaxLag behind (DATABASE_READ_URL,
	// GRANTTRACK_REPLICA_MAX_LAG); otherwise they read from the primary.
	ReadURL       string
	ReplicaMaxLag time.Duration
	// The alerts' daily email: the SMTP server (GRANTTRACK_SMTP_URL, none
	// sends nothing), the sender (GRANTTRACK_SMTP_FROM) and the site's
	// address for the links (GRANTTRACK_BASE_URL, default http://Addr).
	SMTPURL, SMTPFrom, BaseURL string
	// Publisher names who publishes the open-data packages and the
	// identifiers registered for them (GRANTTRACK_PUBLISHER_NAME, _URI,
	// GRANTTRACK_360GIVING_PREFIX, GRANTTRACK_OCID_PREFIX,
	// GRANTTRACK_DATA_LICENCE); the packages are refused until it is complete.
	Publisher export.Publisher
	// OIDC is single sign-on through an OpenID provider (GRANTTRACK_OIDC_*);
	// nil when it is off.
	OIDC *auth.OIDCConfig
}

// LoadConfig reads the configuration from the environment through getenv.
func LoadConfig(getenv func(string) string) (Config, error) {
	cfg := Config{
		DatabaseURL: getenv("DATABASE_URL"),
		ReadURL:     getenv("DATABASE_READ_URL"),
		OwnerURL:    getenv("GRANTTRACK_OWNER_DATABASE_URL"),
		DataDir:     getenv("GRANTTRACK_DATA_DIR"),
		WALArchive:  getenv("GRANTTRACK_WAL_ARCHIVE"),
		Addr:        getenv("GRANTTRACK_ADDR"),
		SMTPURL:     getenv("GRANTTRACK_SMTP_URL"),
		SMTPFrom:    getenv("GRANTTRACK_SMTP_FROM"),
		BaseURL:     getenv("GRANTTRACK_BASE_URL"),
	}
	if cfg.DataDir == "" {
		cfg.DataDir = "var"
	}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:8080"
	}
	switch v := strings.ToLower(getenv("GRANTTRACK_SECURE_COOKIES")); v {
	case "", "0", "false", "no":
	case "1", "true", "yes":
		cfg.SecureCookies = true
	default:
		return cfg, fmt.Errorf("GRANTTRACK_SECURE_COOKIES must be true or false, not %q", v)
	}
	cfg.ApprovalLimit = models.DefaultApprovalLimit
	if v := getenv("GRANTTRACK_APPROVAL_LIMIT"); v != "" {
		limit, err := models.ParsePositiveMoney(v)
		if err != nil {
			return cfg, fmt.Errorf("GRANTTRACK_APPROVAL_LIMIT %s", models.ErrorMessage(err))
		}
		cfg.ApprovalLimit = limit
	}
	for _, v := range strings.Split(getenv("GRANTTRACK_TRUSTED_PROXIES"), ",") {
		if v = strings.TrimSpace(v); v == "" {
			continue
		}
		p, err := netip.ParsePrefix(v)
		if err != nil {
			a, aerr := netip.ParseAddr(v)
			if aerr != nil {
				return cfg, fmt.Errorf("GRANTTRACK_TRUSTED_PROXIES: %q is neither an address nor a CIDR range", v)
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		cfg.TrustedProxies = append(cfg.TrustedProxies, p.Masked())
	}
	cfg.VerifyEvery, cfg.FullVerifyEvery, cfg.ReplicaMaxLag = time.Minute, 6*time.Hour, 30*time.Second
	for _, d := range []struct {
		name string
		to   *time.Duration
	}{{"GRANTTRACK_VERIFY_EVERY", &cfg.VerifyEvery}, {"GRANTTRACK_FULL_VERIFY_EVERY", &cfg.FullVerifyEvery},
		{"GRANTTRACK_REPLICA_MAX_LAG", &cfg.ReplicaMaxLag}} {
		if v := getenv(d.name); v != "" {
			every, err := time.ParseDuration(v)
			if err != nil || every < 0 {
				return cfg, fmt.Errorf("%s must be a duration such as 1m or 6h (0 for never), not %q", d.name, v)
			}
			*d.to = every
		}
	}
	// The environment stands in for each publisher setting admins leave
	// empty (store.EffectivePublisher).
	cfg.Publisher = export.Publisher{Name: getenv("GRANTTRACK_PUBLISHER_NAME"), URI: getenv("GRANTTRACK_PUBLISHER_URI"),
		OrgID: getenv("GRANTTRACK_PUBLISHER_ORG_ID"), ThreeSixtyGivingPrefix: getenv("GRANTTRACK_360GIVING_PREFIX"),
		OCIDPrefix: getenv("GRANTTRACK_OCID_PREFIX"), Licence: getenv("GRANTTRACK_DATA_LICENCE")}.Trimmed()
	for _, env := range []string{"GRANTTRACK_PUBLISHER_URI", "GRANTTRACK_PUBLISHER_ORG_ID", "GRANTTRACK_360GIVING_PREFIX", "GRANTTRACK_OCID_PREFIX", "GRANTTRACK_DATA_LICENCE"} {
		if msg := cfg.Publisher.Check()[env]; msg != "" {
			return cfg, fmt.Errorf("%s %s", env, msg)
		}
	}
	switch v := strings.ToLower(getenv("GRANTTRACK_LOG_FORMAT")); v {
	case "", "text":
	case "json":
		cfg.LogJSON = true
	default:
		return cfg, fmt.Errorf("GRANTTRACK_LOG_FORMAT must be text or json, not %q", v)
	}
	if v := getenv("GRANTTRACK_LOG_LEVEL"); v != "" {
		if err := cfg.LogLevel.UnmarshalText([]byte(v)); err != nil {
			return cfg, fmt.Errorf("GRANTTRACK_LOG_LEVEL: %w", err)
		}
	}
	oidc, err := auth.LoadOIDCConfig(getenv)
	if err != nil {
		return cfg, err
	}
	cfg.OIDC = oidc
	return cfg, nil
}

// Logger returns the logger the configuration asks for, writing to w.
func (cfg Config) Logger(w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogJSON {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// App is the running program.
type App struct {
	Config  Config
	Log     *slog.Logger
	Cluster *pgembed.Cluster // nil with DATABASE_URL
	Store   *store.Store     // as the application role, or the owner for OpenOwner
	appRole string           // the role the owner grants to
	// DSN is the owner's connection string, for PostgreSQL's own tools (OpenOwner only).
	DSN string
}

// Open connects to the database as the application role. Without
// DATABASE_URL it starts the private cluster, migrates it as the owner and
// then connects as the application role. With DATABASE_URL it only checks:
// it refuses a superuser or the schema's owner, and a schema that is behind
// this binary, saying what to run.
func Open(ctx context.Context, cfg Config, log *slog.Logger) (*App, error) {
	if cfg.DatabaseURL == "" {
		a, err := OpenOwner(ctx, cfg, log)
		if err != nil {
			return nil, err
		}
		if _, err := a.Migrate(ctx); err != nil {
			a.Close()
			return nil, err
		}
		a.Store.Close()
		if a.Store, err = store.Open(ctx, a.Cluster.DSN()); err != nil {
			a.Store = nil
			a.Close()
			return nil, err
		}
		if err := a.openReplica(ctx); err != nil {
			a.Close()
			return nil, err
		}
		return a, nil
	}
	st, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	a := &App{Config: cfg, Log: log, Store: st}
	if err := CheckAppRole(ctx, st, cfg.DatabaseURL); err != nil {
		a.Close()
		return nil, err
	}
	if err := a.openReplica(ctx); err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

// openReplica connects the read replica if one is configured; one that
// does not answer yet is only logged, as reads fall back to the primary.
func (a *App) openReplica(ctx context.Context) error {
	if a.Config.ReadURL == "" {
		return nil
	}
	if err := a.Store.OpenReplica(ctx, a.Config.ReadURL, a.Config.ReplicaMaxLag); err != nil {
		return err
	}
	if lag, err := a.Store.ReplicaLag(ctx); err != nil {
		a.Log.Warn("the read replica (DATABASE_READ_URL) does not answer; reports read from the primary until it does", "err", err)
	} else {
		a.Log.Info("reading reports from the replica while it is behind by no more than the limit", "lag", lag, "limit", a.Config.ReplicaMaxLag)
	}
	return nil
}

// OpenOwner connects to the database as the schema's owner, to migrate it:
// the private cluster's owner role, or GRANTTRACK_OWNER_DATABASE_URL (migrate
// --owner-url) beside DATABASE_URL.
func OpenOwner(ctx context.Context, cfg Config, log *slog.Logger) (*App, error) {
	a := &App{Config: cfg, Log: log}
	dsn := cfg.OwnerURL
	if cfg.DatabaseURL != "" && cfg.WALArchive != "" {
		return nil, errors.New("a WAL archive (--wal-archive, GRANTTRACK_WAL_ARCHIVE) is for the private cluster; with DATABASE_URL, archive on that server")
	}
	if cfg.DatabaseURL == "" {
		dir, err := filepath.Abs(cfg.DataDir)
		if err != nil {
			return nil, err
		}
		c, err := pgembed.Start(ctx, pgembed.Options{DataDir: dir, WALArchive: cfg.WALArchive, Logf: func(f string, args ...any) {
			log.Info(fmt.Sprintf(f, args...))
		}})
		if err != nil {
			return nil, err
		}
		a.Cluster, a.appRole, dsn = c, pgembed.App, c.OwnerDSN()
		if cfg.WALArchive != "" {
			if err := a.archiving(ctx); err != nil {
				a.Close()
				return nil, err
			}
		}
	} else {
		if dsn == "" {
			return nil, errors.New("migrating needs the schema owner's connection beside DATABASE_URL: set GRANTTRACK_OWNER_DATABASE_URL or pass --owner-url")
		}
		app, err := pgx.ParseConfig(cfg.DatabaseURL)
		if err != nil {
			return nil, fmt.Errorf("DATABASE_URL: %w", err)
		}
		a.appRole = app.User
	}
	a.DSN = dsn
	st, err := store.Open(ctx, dsn)
	if err != nil {
		a.Close()
		return nil, err
	}
	a.Store = st
	return a, nil
}

// archiving checks the private cluster archives its WAL, and takes the
// archive's first base backup, without which the WAL cannot be replayed.
func (a *App) archiving(ctx context.Context) error {
	on, err := a.Cluster.WALArchiving(ctx)
	if err != nil {
		return err
	}
	if !on {
		a.Log.Warn("the private cluster was started by another granttrack process without a WAL archive, so it is not archiving; stop every granttrack process on this data dir and start again with --wal-archive")
		return nil
	}
	if backup.HasBaseBackup(a.Config.WALArchive) {
		return nil
	}
	dir, err := backup.BaseBackup(ctx, a.ReplicationDSN(), a.Config.WALArchive)
	if err != nil {
		return err
	}
	a.Log.Info("took the WAL archive's first base backup", "dir", dir)
	return nil
}

// ReplicationDSN is the private cluster's superuser connection, which
// pg_basebackup needs (the owner and the application role may not
// replicate); empty with DATABASE_URL, whose server archives its own WAL.
func (a *App) ReplicationDSN() string {
	if a.Cluster == nil {
		return ""
	}
	return a.Cluster.DSNAs(pgembed.Superuser, "postgres")
}

// Migrate applies every pending migration and grants the application role
// its privileges; a must have been opened with OpenOwner. It returns the
// names of the migrations it applied: none when another process, holding
// the migrators' lock first, had already applied them.
func (a *App) Migrate(ctx context.Context) ([]string, error) {
	group, err := migrations.UpAndGrant(ctx, a.Store.DB(), a.appRole)
	if err != nil {
		return nil, err
	}
	var applied []string
	if !group.IsZero() {
		a.Log.Info("migrated", "group", group.ID, "migrations", group.Migrations.String())
		for _, m := range group.Migrations {
			applied = append(applied, m.String())
		}
	}
	seeded, current, err := a.Store.SeedSpendLimit(ctx, a.Config.ApprovalLimit)
	if err != nil {
		return nil, err
	}
	if !seeded && current != nil && !current.Equal(a.Config.ApprovalLimit) {
		a.Log.Warn("GRANTTRACK_APPROVAL_LIMIT only seeds a new database; the scheme of delegation keeps its own limit",
			"configured", models.FormatMoney(a.Config.ApprovalLimit), "scheme", models.FormatMoney(*current))
	}
	return applied, nil
}

// CheckAppRole returns an error unless st connects as a role fit to serve:
// not a superuser, owning nothing in the schema, on a schema with every
// migration this binary knows applied. The errors say what to run; dsn (the
// application's DATABASE_URL) fills in the command's host and database.
func CheckAppRole(ctx context.Context, st *store.Store, dsn string) error {
	var role string
	var super, owns bool
	err := st.DB().NewRaw(`SELECT current_user, rolsuper, EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' AND pg_has_role(current_user, c.relowner, 'USAGE'))
		FROM pg_roles WHERE rolname = current_user`).Scan(ctx, &role, &super, &owns)
	if err != nil {
		return fmt.Errorf("checking the database role: %w", err)
	}
	switch {
	case super:
		return fmt.Errorf("DATABASE_URL connects as %s, a superuser, which could switch the ledger's append-only triggers off; "+
			"connect as the application role instead (README, Security: Roles)", role)
	case owns:
		return fmt.Errorf("DATABASE_URL connects as %s, which owns tables of the schema and so could alter them or switch their triggers off; "+
			"connect as the application role and keep the owner's connection for `granttrack migrate` (README, Security: Roles)", role)
	}
	pending, err := migrations.Pending(ctx, st.DB())
	if err != nil {
		return err
	}
	if len(pending) > 0 {
		return fmt.Errorf("the database schema is behind this granttrack: %d migrations are not applied (%s); as the schema's owner, run\n  %s",
			len(pending), strings.Join(pending, ", "), MigrateCommand(dsn))
	}
	return nil
}

// MigrateCommand is the command that brings the schema of the database dsn
// names up to date, with the owner's credentials left for the operator.
func MigrateCommand(dsn string) string {
	owner := "postgres://OWNER:PASSWORD@HOST/DATABASE"
	if cfg, err := pgx.ParseConfig(dsn); err == nil && strings.HasPrefix(cfg.Host, "/") { // a Unix socket
		owner = fmt.Sprintf("host=%s port=%d dbname=%s user=OWNER", cfg.Host, cfg.Port, cfg.Database)
	} else if err == nil {
		owner = (&url.URL{Scheme: "postgres", User: url.UserPassword("OWNER", "PASSWORD"),
			Host: net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))), Path: "/" + cfg.Database}).String()
	}
	return "granttrack migrate up --owner-url '" + owner + "'"
}

// Server builds the HTTP server over the store.
func (a *App) Server() (*server.Server, error) {
	var sso *auth.OIDC
	if a.Config.OIDC != nil {
		var err error
		if sso, err = auth.NewOIDC(*a.Config.OIDC); err != nil {
			return nil, err
		}
	}
	return server.New(server.Config{Store: a.Store, Logger: a.Log, SecureCookies: a.Config.SecureCookies, TrustedProxies: a.Config.TrustedProxies,
		Publisher: a.Config.Publisher, OIDC: sso})
}

// Close closes the store and stops the private cluster if this process
// started it.
func (a *App) Close() error {
	var errs []error
	if a.Store != nil {
		errs = append(errs, a.Store.Close())
	}
	if a.Cluster != nil {
		errs = append(errs, a.Cluster.Stop())
	}
	return errors.Join(errs...)
}
