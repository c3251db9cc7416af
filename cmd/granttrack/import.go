package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/schollz/progressbar/v3"

	"granttrack/app/store"
	"granttrack/models"
)

// importSpend runs `granttrack import spend FILE.csv --as EMAIL [--force]`.
func (c *command) importCmd(args []string) error {
	if len(args) > 0 && args[0] == "expenses" {
		return c.importExpenses(args[1:])
	}
	if len(args) == 0 || args[0] != "spend" {
		return usageError{"import needs spend or expenses"}
	}
	fs := c.flags("import spend")
	as := fs.String("as", "", "email of the finance officer recording the spend")
	force := fs.Bool("force", false, "import even if this file was imported before")
	path, err := parseWithFile(fs, args[1:])
	if err != nil {
		return err
	}
	if path == "" || fs.NArg() != 0 || *as == "" {
		return usageError{"usage: granttrack import spend FILE.csv --as EMAIL [--force]"}
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	a, err := c.open()
	if err != nil {
		return err
	}
	defer a.Close()
	actor, err := c.recorder(a.Store, *as, "spend")
	if err != nil {
		return err
	}
	var r io.Reader = f
	opts := store.ImportOptions{FileName: filepath.Base(path), Force: *force}
	if isTerminal(c.stderr) {
		// Two bars: the file's bytes as they are read and checked, then the
		// entries as they are written to the ledger (the longer part).
		bar := progressbar.NewOptions64(info.Size(), progressbar.OptionSetWriter(c.stderr), progressbar.OptionShowBytes(true),
			progressbar.OptionSetDescription("reading "+filepath.Base(path)), progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish())
		r = io.TeeReader(f, bar)
		var entries *progressbar.ProgressBar
		opts.Progress = func(stage store.ImportStage, done, total int) {
			if stage != store.ImportRecording {
				return
			}
			if entries == nil {
				_ = bar.Finish()
				entries = progressbar.NewOptions(total, progressbar.OptionSetWriter(c.stderr), progressbar.OptionShowCount(),
					progressbar.OptionSetDescription("recording entries"), progressbar.OptionThrottle(100*time.Millisecond),
					progressbar.OptionClearOnFinish())
			}
			_ = entries.Set(done)
		}
	}
	res, err := a.Store.ImportSpend(c.ctx, actor, r, opts)
	if err := c.importRefused(err); err != nil {
		return err
	}
	if res.Encoding != store.EncodingUTF8 {
		fmt.Fprintf(c.stdout, "The file was converted from %s to UTF-8 as it was read.\n", res.Encoding)
	}
	fmt.Fprintf(c.stdout, "Imported %d spend entries totalling %s as pending (import %d); another officer must approve them.\n",
		res.Rows, models.Pounds(res.Total), res.ID)
	return nil
}

// importExpenses runs `granttrack import expenses FILE.csv --as EMAIL`: the
// office holders' expenses for the publishing pack, all or nothing.
func (c *command) importExpenses(args []string) error {
	fs := c.flags("import expenses")
	as := fs.String("as", "", "email of the finance officer recording the expenses")
	path, err := parseWithFile(fs, args)
	if err != nil {
		return err
	}
	if path == "" || fs.NArg() != 0 || *as == "" {
		return usageError{"usage: granttrack import expenses FILE.csv --as EMAIL"}
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	a, err := c.open()
	if err != nil {
		return err
	}
	defer a.Close()
	actor, err := c.recorder(a.Store, *as, "expenses")
	if err != nil {
		return err
	}
	out, err := a.Store.ImportOfficeHolderExpenses(c.ctx, actor, f)
	if err := c.importRefused(err); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "Recorded %d office holders' expenses from %s, each pending until a second person approves it (/approvals).\n", len(out), filepath.Base(path))
	return nil
}

// recorder is the user an import is recorded as (--as EMAIL): a finance
// officer or a finance manager; EFORBIDDEN for another role (an admin
// records no money).
func (c *command) recorder(st *store.Store, email, what string) (models.Actor, error) {
	u, err := st.UserByEmail(c.ctx, email)
	if err != nil {
		return models.Actor{}, err
	}
	if u.Role != models.RoleFinanceOfficer && u.Role != models.RoleFinanceManager {
		return models.Actor{}, models.Errorf(models.EFORBIDDEN, "%s is a %s; only finance officers and finance managers record %s.", u.Email, u.Role, what)
	}
	return models.Actor{UserID: u.ID, Label: u.Email, Role: u.Role, RequestID: "cli import"}, nil
}

// importRefused prints the problems of a refused import and says it was
// refused; any other error passes through.
func (c *command) importRefused(err error) error {
	var ie *store.ImportError
	if !errors.As(err, &ie) {
		return err
	}
	fmt.Fprintf(c.stderr, "%d problem(s); nothing was imported:\n", len(ie.Rows)+ie.More)
	for _, row := range ie.Rows {
		if row.Field == "" {
			fmt.Fprintf(c.stderr, "  %s: %s\n", row.Where(), row.Message)
		} else {
			fmt.Fprintf(c.stderr, "  %s: %s %s\n", row.Where(), row.Field, row.Message)
		}
	}
	if ie.More > 0 {
		fmt.Fprintf(c.stderr, "  … and %d more problem(s) not listed\n", ie.More)
	}
	return errors.New("import refused")
}
