// Package app assembles granttrack: configuration, the database (a private
// PostgreSQL cluster or DATABASE_URL), migrations, the store and the server.
// The command line calls into it, and so can a test, to run the whole program.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/shopspring/decimal"

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
	Addr          string // where to serve HTTP
	SecureCookies bool   // set when served over HTTPS
	LogLevel      slog.Level
	// ApprovalLimit seeds the scheme of delegation's spend limit for finance
	// officers in a new database (one without users); after that the scheme
	// changes only through a delegation change two admins make.
	ApprovalLimit decimal.Decimal
}

// LoadConfig reads the configuration from the environment through getenv.
func LoadConfig(getenv func(string) string) (Config, error) {
	cfg := Config{
		DatabaseURL: getenv("DATABASE_URL"),
		DataDir:     getenv("GRANTTRACK_DATA_DIR"),
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
	if v := getenv("GRANTTRACK_LOG_LEVEL"); v != "" {
		if err := cfg.LogLevel.UnmarshalText([]byte(v)); err != nil {
			return cfg, fmt.Errorf("GRANTTRACK_LOG_LEVEL: %w", err)
		}
	}
	return cfg, nil
}

// App is the running program.
type App struct {
	Config  Config
	Log     *slog.Logger
	Cluster *pgembed.Cluster // nil with DATABASE_URL
	Store   *store.Store
}

// Open connects to the database, starting the private cluster when no
// DATABASE_URL is set, and applies pending migrations.
func Open(ctx context.Context, cfg Config, log *slog.Logger) (*App, error) {
	a := &App{Config: cfg, Log: log}
	dsn := cfg.DatabaseURL
	if dsn == "" {
		dir, err := filepath.Abs(cfg.DataDir)
		if err != nil {
			return nil, err
		}
		c, err := pgembed.Start(ctx, pgembed.Options{DataDir: dir, Logf: func(f string, args ...any) {
			log.Info(fmt.Sprintf(f, args...))
		}})
		if err != nil {
			return nil, err
		}
		a.Cluster = c
		dsn = c.DSN()
	}
	st, err := store.Open(ctx, dsn)
	if err != nil {
		a.Close()
		return nil, err
	}
	a.Store = st
	return a, nil
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
	seeded, current, err := a.Store.SeedSpendLimit(ctx, a.Config.ApprovalLimit)
	if err != nil {
		return err
	}
	if !seeded && current != nil && !current.Equal(a.Config.ApprovalLimit) {
		a.Log.Warn("GRANTTRACK_APPROVAL_LIMIT only seeds a new database; the scheme of delegation keeps its own limit",
			"configured", models.FormatMoney(a.Config.ApprovalLimit), "scheme", models.FormatMoney(*current))
	}
	return nil
}

// Server builds the HTTP server over the store.
func (a *App) Server() (*server.Server, error) {
	return server.New(server.Config{Store: a.Store, Logger: a.Log, SecureCookies: a.Config.SecureCookies})
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
