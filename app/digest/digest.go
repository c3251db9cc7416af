// Package digest sends each user a daily email of their alerts over SMTP:
// plain text, composed with the standard library's MIME encoders so that no
// name or message can add a header of its own.
package digest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/url"
	"strings"
	"time"

	"granttrack/app/report"
	"granttrack/app/store"
	"granttrack/models"
)

// ErrNoSMTP is returned when no SMTP server is configured: nothing is sent.
var ErrNoSMTP = errors.New("GRANTTRACK_SMTP_URL is not set, so no email was sent; set it to the mail server, e.g. smtp://user:password@mail.example.org:587")

// Mailer sends mail through one SMTP server.
type Mailer struct {
	addr     string // host:port
	host     string
	implicit bool // smtps: TLS from the first byte
	user     string
	password string
	From     mail.Address
	// TLS is the configuration for STARTTLS and smtps; nil verifies the
	// server's certificate against the system's roots (tests give their own).
	TLS *tls.Config
}

// NewMailer reads an SMTP URL: smtp://[user:password@]host[:port] (port 25
// by default; STARTTLS whenever the server offers it) or smtps://… (TLS from
// the start, port 465). from is the sender's address ("" for
// granttrack@localhost). An empty URL is ErrNoSMTP.
func NewMailer(rawURL, from string) (*Mailer, error) {
	if rawURL == "" {
		return nil, ErrNoSMTP
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("GRANTTRACK_SMTP_URL is not a URL: %w", err)
	}
	m := &Mailer{host: u.Hostname()}
	port := u.Port()
	switch u.Scheme {
	case "smtp":
		if port == "" {
			port = "25"
		}
	case "smtps":
		m.implicit = true
		if port == "" {
			port = "465"
		}
	default:
		return nil, fmt.Errorf("GRANTTRACK_SMTP_URL must start smtp:// or smtps://, not %q", u.Scheme+"://")
	}
	if m.host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return nil, errors.New("GRANTTRACK_SMTP_URL must be smtp://[user:password@]host[:port] and nothing more")
	}
	m.addr = net.JoinHostPort(m.host, port)
	if u.User != nil {
		m.user = u.User.Username()
		m.password, _ = u.User.Password()
	}
	if from == "" {
		from = "granttrack@localhost"
	}
	a, err := mail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("GRANTTRACK_SMTP_FROM %q is not an email address: %w", from, err)
	}
	m.From = *a
	return m, nil
}

// Send delivers one message to the recipients: STARTTLS when the server
// offers it, then PLAIN authentication when the URL has a user (net/smtp
// sends a password only over TLS, or to this machine).
func (m *Mailer) Send(ctx context.Context, to []string, msg []byte) error {
	tlsConfig := m.TLS
	if tlsConfig == nil {
		tlsConfig = &tls.Config{ServerName: m.host, MinVersion: tls.VersionTLS12}
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", m.addr)
	if err != nil {
		return fmt.Errorf("digest: connect to %s: %w", m.addr, err)
	}
	if m.implicit {
		conn = tls.Client(conn, tlsConfig)
	}
	if deadline, ok := ctx.Deadline(); ok {
		conn.SetDeadline(deadline)
	} else {
		conn.SetDeadline(time.Now().Add(time.Minute))
	}
	c, err := smtp.NewClient(conn, m.host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("digest: %s: %w", m.addr, err)
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok && !m.implicit {
		if err := c.StartTLS(tlsConfig); err != nil {
			return fmt.Errorf("digest: STARTTLS with %s: %w", m.addr, err)
		}
	}
	if m.user != "" {
		if err := c.Auth(smtp.PlainAuth("", m.user, m.password, m.host)); err != nil {
			return fmt.Errorf("digest: sign in to %s: %w", m.addr, err)
		}
	}
	if err := c.Mail(m.From.Address); err != nil {
		return fmt.Errorf("digest: MAIL FROM: %w", err)
	}
	for _, r := range to {
		if err := c.Rcpt(r); err != nil {
			return fmt.Errorf("digest: RCPT TO %s: %w", r, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("digest: DATA: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("digest: writing the message: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("digest: the server refused the message: %w", err)
	}
	return c.Quit()
}

// Compose writes a user's digest for the day: From, To (the user's name,
// encoded as RFC 2047 needs, so a name cannot break out of its header),
// Subject, Date, Message-ID and a quoted-printable UTF-8 body listing each
// alert with its link under base (the site's address). It fails only for
// an email address that is not one.
func Compose(from mail.Address, to *models.User, day, now time.Time, alerts []models.Alert, base string) ([]byte, error) {
	rcpt, err := mail.ParseAddress(to.Email)
	if err != nil {
		return nil, fmt.Errorf("digest: %q is not an email address: %w", to.Email, err)
	}
	rcpt.Name = to.Name
	var b bytes.Buffer
	header := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	header("From", from.String())
	header("To", rcpt.String())
	header("Subject", mime.QEncoding.Encode("utf-8", Subject(day, len(alerts))))
	header("Date", now.Format(time.RFC1123Z))
	header("Message-ID", "<"+messageID()+"@granttrack>")
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	header("Auto-Submitted", "auto-generated")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	fmt.Fprint(qp, Body(to.Name, day, alerts, base))
	if err := qp.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Subject is a digest's subject line.
func Subject(day time.Time, n int) string {
	what := fmt.Sprintf("%d alerts", n)
	if n == 1 {
		what = "1 alert"
	}
	return "granttrack: " + what + " for " + day.Format("Monday 2 January 2006")
}

// Body is a digest's text: a line per alert, most urgent first, each with
// its severity and link.
func Body(name string, day time.Time, alerts []models.Alert, base string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Hello %s,\r\n\r\nYour alerts for %s, most urgent first:\r\n\r\n", oneLine(name), day.Format("Monday 2 January 2006"))
	for _, a := range alerts {
		fmt.Fprintf(&b, "* [%s] %s\r\n  %s%s\r\n\r\n", a.Severity, a.Message, strings.TrimSuffix(base, "/"), a.Link)
	}
	b.WriteString("The thresholds are on the Alert thresholds page. This email is sent once a day by `granttrack alerts --email`.\r\n")
	return b.String()
}

// oneLine keeps a name on its line in the body.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func messageID() string {
	var r [16]byte
	rand.Read(r[:])
	return hex.EncodeToString(r[:])
}

// Result is what a run of the digest did.
type Result struct {
	Sent    []string // the addresses a digest went to
	Nothing int      // active users with no alerts, who get no email
}

// SendAll sends each active user with alerts on the day today their digest
// through m; an error names the user it stopped at (those before it were
// sent).
func SendAll(ctx context.Context, st *store.Store, m *Mailer, today time.Time, base string) (Result, error) {
	var res Result
	users, err := st.Users(ctx)
	if err != nil {
		return res, err
	}
	for _, u := range users {
		if !u.Active {
			continue
		}
		alerts, err := report.Alerts(ctx, st, u.ID, today)
		if err != nil {
			return res, err
		}
		if len(alerts) == 0 {
			res.Nothing++
			continue
		}
		msg, err := Compose(m.From, u, today, time.Now(), alerts, base)
		if err != nil {
			return res, err
		}
		if err := m.Send(ctx, []string{u.Email}, msg); err != nil {
			return res, fmt.Errorf("the digest for %s: %w", u.Email, err)
		}
		res.Sent = append(res.Sent, u.Email)
	}
	return res, nil
}
