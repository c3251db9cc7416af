package digest_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"granttrack/app/digest"
	"granttrack/app/pgtest"
	"granttrack/app/store"
	"granttrack/app/store/storetest"
	"granttrack/models"
)

func TestMain(m *testing.M) { pgtest.MainMigrated(m) }

// received is one message the test's SMTP server accepted.
type received struct {
	from    string
	to      []string
	data    []byte
	user    string
	overTLS bool
}

// mailbox is a real SMTP server (emersion/go-smtp) on a loopback port that
// offers STARTTLS with a certificate of its own, takes PLAIN
// authentication only over TLS, and keeps every message.
type mailbox struct {
	mu   sync.Mutex
	got  []received
	addr string
	pool *x509.CertPool
}

type session struct {
	box  *mailbox
	conn *smtp.Conn
	msg  received
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, password string) error {
		if user != "digest" || password != "s3cret:pass" {
			return errors.New("bad credentials")
		}
		s.msg.user = user
		return nil
	}), nil
}
func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.msg.user == "" {
		return smtp.ErrAuthRequired
	}
	s.msg.from = from
	return nil
}
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.msg.to = append(s.msg.to, to)
	return nil
}
func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, s.msg.overTLS = s.conn.TLSConnectionState()
	s.msg.data = b
	s.box.mu.Lock()
	s.box.got = append(s.box.got, s.msg)
	s.box.mu.Unlock()
	s.msg = received{user: s.msg.user}
	return nil
}
func (s *session) Reset()        {}
func (s *session) Logout() error { return nil }

func startMailbox(t *testing.T) *mailbox {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mail.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	box := &mailbox{pool: x509.NewCertPool()}
	box.pool.AddCert(cert)
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) { return &session{box: box, conn: c}, nil }))
	srv.Domain = "mail.test"
	srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	box.addr = ln.Addr().String()
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return box
}

// TestDigestGoesToARealSMTPServer sends the digests through a real SMTP
// server over STARTTLS with a password, and reads each message back: its
// recipient, subject and alerts. A name written to break out of its header
// stays inside it.
func TestDigestGoesToARealSMTPServer(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, pgtest.FreshMigrated(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	l := storetest.ActiveLine(t, st, storetest.LineSpec{Code: "MAIL", PayeeName: "Payee", Budget: "1000.00", StartsOn: "2024-04-01", EndsOn: "2025-03-31"})
	officers := storetest.Officers(t, st, "maker@digest.example")
	hostile := "Eve Example\r\nBcc: spy@evil.example\r\nSubject: pwned"
	eve := &models.User{Email: "eve@digest.example", Name: hostile, Role: models.RoleFinanceOfficer, PasswordHash: "-", Active: true}
	if err := st.CreateUser(ctx, models.SystemActor("test"), eve); err != nil {
		t.Fatal(err)
	}
	e, err := models.SpendInput{FundingLineID: l.ID, PayeeID: l.Payee.ID, Amount: "120.00", IncurredOn: "2024-06-03", Category: "other",
		Description: "Café hire"}.Validate()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.RecordSpend(ctx, officers[0], e, "", nil); err != nil {
		t.Fatal(err)
	}

	box := startMailbox(t)
	m, err := digest.NewMailer("smtp://digest:s3cret%3Apass@"+box.addr, "Granttrack <alerts@digest.example>")
	if err != nil {
		t.Fatal(err)
	}
	m.TLS = &tls.Config{RootCAs: box.pool, ServerName: "127.0.0.1"}
	today := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	res, err := digest.SendAll(ctx, st, m, today, "https://granttrack.example/")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range res.Sent {
		if a == "maker@digest.example" {
			t.Errorf("the maker has nothing to decide and no other alert, yet got a digest")
		}
	}
	var msg *received
	for i, g := range box.got {
		if len(g.to) == 1 && g.to[0] == eve.Email {
			msg = &box.got[i]
		}
	}
	if msg == nil || len(box.got) != len(res.Sent) || res.Nothing == 0 {
		t.Fatalf("sent %v (%d without alerts), server got %d messages, none to %s", res.Sent, res.Nothing, len(box.got), eve.Email)
	}
	if msg.from != "alerts@digest.example" || msg.user != "digest" || !msg.overTLS {
		t.Fatalf("envelope from %q, user %q, over TLS %v", msg.from, msg.user, msg.overTLS)
	}
	parsed, err := mail.ReadMessage(bytes.NewReader(msg.data))
	if err != nil {
		t.Fatal(err)
	}
	if parsed.Header.Get("Bcc") != "" || len(parsed.Header["Subject"]) != 1 {
		t.Fatalf("the name added headers:\n%s", msg.data)
	}
	to, err := mail.ParseAddress(parsed.Header.Get("To"))
	if err != nil || to.Address != eve.Email || to.Name != hostile {
		t.Fatalf("To: %q → %+v (%v)", parsed.Header.Get("To"), to, err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(parsed.Header.Get("Subject"))
	if err != nil || subject != "granttrack: 1 alert for Tuesday 1 December 2026" {
		t.Fatalf("Subject %q (%v)", subject, err)
	}
	body, err := io.ReadAll(quotedprintable.NewReader(parsed.Body))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Hello Eve Example Bcc: spy@evil.example Subject: pwned,",
		"* [medium] Spend awaits your decision: Café hire, £120.00 (proposed by maker@digest.example on ",
		"https://granttrack.example/spend/"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("the body lacks %q:\n%s", want, body)
		}
	}
}

// TestNoSMTPServerNoEmail: without GRANTTRACK_SMTP_URL nothing is sent and
// the error says what to set; a wrong URL is named.
func TestNoSMTPServerNoEmail(t *testing.T) {
	if _, err := digest.NewMailer("", ""); !errors.Is(err, digest.ErrNoSMTP) || !strings.Contains(err.Error(), "GRANTTRACK_SMTP_URL is not set") {
		t.Fatalf("err = %v", err)
	}
	for _, bad := range []string{"http://mail.example.org", "smtp://", "smtp://mail.example.org/inbox", "smtp://mail.example.org?x=1"} {
		if _, err := digest.NewMailer(bad, ""); err == nil {
			t.Errorf("%s was taken", bad)
		}
	}
	if _, err := digest.NewMailer("smtp://mail.example.org", "not an address"); err == nil {
		t.Error("a bad sender was taken")
	}
}
