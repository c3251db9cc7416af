package main

import (
	"fmt"

	"granttrack/app/digest"
	"granttrack/app/report"
)

// alertsCmd prints every active user's alerts for today, or with --email
// sends each user with alerts their daily digest through
// GRANTTRACK_SMTP_URL (and sends nothing, saying so, when it is unset).
func (c *command) alertsCmd(args []string) error {
	fs := c.flags("alerts")
	email := fs.Bool("email", false, "send each user with alerts a digest by email (GRANTTRACK_SMTP_URL, GRANTTRACK_SMTP_FROM)")
	base := fs.String("base-url", c.cfg.BaseURL, "the site's address, for the links in the email (GRANTTRACK_BASE_URL; default http://ADDR)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{"alerts takes no arguments, only --email and --base-url"}
	}
	if *base == "" {
		*base = "http://" + c.cfg.Addr
	}
	var m *digest.Mailer
	if *email {
		var err error
		if m, err = digest.NewMailer(c.cfg.SMTPURL, c.cfg.SMTPFrom); err != nil {
			return err // before opening the database: nothing is sent
		}
	}
	a, err := c.open()
	if err != nil {
		return err
	}
	defer a.Close()
	today := a.Store.Clock().Today()
	if m != nil {
		res, err := digest.SendAll(c.ctx, a.Store, m, today, *base)
		for _, to := range res.Sent {
			fmt.Fprintf(c.stdout, "Sent the digest to %s\n", to)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "%d digests sent; %d users had no alerts.\n", len(res.Sent), res.Nothing)
		return nil
	}
	users, err := a.Store.Users(c.ctx)
	if err != nil {
		return err
	}
	for _, u := range users {
		if !u.Active {
			continue
		}
		alerts, err := report.Alerts(c.ctx, a.Store, u.ID, today)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "%s (%s): %d alerts\n", u.Email, u.Role, len(alerts))
		for _, al := range alerts {
			fmt.Fprintf(c.stdout, "  [%s] %s %s\n", al.Severity, al.Message, al.Link)
		}
	}
	return nil
}
