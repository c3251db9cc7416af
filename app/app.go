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
	"path/filepath"
	"strings"

	"github.com/shopspring/decimal"

	"granttrack/app/backup"
	"granttrack/app/pgembed"
	"granttrack/app/server"
	"granttrack/app/store"
	"granttrack/migrations"
	"granttrack/models"
)

// Config is granttrack's configuration, read from the environment and flags.
type Config struct {
	DatabaseURL   string // use this server; empty starts a private cluster
	DataDir       string // where the private cluster lives
	WALArchive    string // where the private cluster archives its WAL; empty: no archiving
	Addr          string // where to serve HTTP
	SecureCookies bool   // set when served over HTTPS
	LogLevel      slog.Level
	LogJSON       bool            // logs as JSON lines (GRANTTRACK_LOG_FORMAT=json), else as text
	ApprovalLimit decimal.Decimal // spend above this needs an admin's approval
}

// LoadConfig reads the configuration from the environment through getenv.
func LoadConfig(getenv func(string) string) (Config, error) {
	cfg := Config{
		DatabaseURL: getenv("DATABASE_URL"),
		DataDir:     getenv("GRANTTRACK_DATA_DIR"),
		WALArchive:  getenv("GRANTTRACK_WAL_ARCHIVE"),
		Addr:        getenv("GRANTTRACK_ADDR"),
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
	Store   *store.Store
	// DSN is the database's connection string, for PostgreSQL's own tools.
	DSN string
}

// Open connects to the database, starting the private cluster when no
// DATABASE_URL is set, and applies pending migrations.
func Open(ctx context.Context, cfg Config, log *slog.Logger) (*App, error) {
	a := &App{Config: cfg, Log: log}
	dsn := cfg.DatabaseURL
	if dsn != "" && cfg.WALArchive != "" {
		return nil, errors.New("a WAL archive (--wal-archive, GRANTTRACK_WAL_ARCHIVE) is for the private cluster; with DATABASE_URL, archive on that server")
	}
	if dsn == "" {
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
		a.Cluster = c
		dsn = c.DSN()
		if cfg.WALArchive != "" {
			if err := a.archiving(ctx); err != nil {
				a.Close()
				return nil, err
			}
		}
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
	dir, err := backup.BaseBackup(ctx, a.Cluster.DSN(), a.Config.WALArchive)
	if err != nil {
		return err
	}
	a.Log.Info("took the WAL archive's first base backup", "dir", dir)
	return nil
}

// Migrate applies every pending migration.
func (a *App) Migrate(ctx context.Context) error {
	group, err := migrations.Up(ctx, a.Store.DB())
	if err != nil {
		return err
	}
	if !group.IsZero() {
		a.Log.Info("migrated", "group", group.ID, "migrations", group.Migrations.String())
	}
	return nil
}

// Server builds the HTTP server over the store.
func (a *App) Server() (*server.Server, error) {
	return server.New(server.Config{Store: a.Store, Logger: a.Log, SecureCookies: a.Config.SecureCookies, ApprovalLimit: a.Config.ApprovalLimit})
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
