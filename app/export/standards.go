package export

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"granttrack/app/store"
	"granttrack/models"
)

// Open-data formats. 360Giving (grants) and OCDS (contracting) files are
// one JSON package each, not a stream of ledger rows, so they have their own
// registry; Ledger sends these formats here. Their manifest counts grants or
// releases as Rows, with Total the sum awarded and Approved the sum of the
// approved spend they carry as disbursements or transactions.
const (
	Format360Giving = models.Format360Giving
	FormatOCDS      = models.FormatOCDS
)

// Publisher is who publishes the open-data packages (see models.Publisher).
type Publisher = models.Publisher

// Placeholder identifiers from before the publisher's were configurable.
const (
	Placeholder360Prefix = models.Placeholder360Prefix
	PlaceholderOCID      = models.PlaceholderOCID
)

// WithPublisher gives the open-data packages their publisher; without a
// complete one they are refused.
func WithPublisher(p Publisher) Option { return func(o *options) { o.publisher = p } }

// A packageFormat writes one whole package, reading everything in one
// snapshot, and fills in m's counts, totals and audit head.
type packageFormat struct {
	write       func(ctx context.Context, st *store.Store, w io.Writer, pub Publisher, f Filter, m *Manifest) error
	contentType string
	extension   string
}

var packageFormats = map[string]packageFormat{
	Format360Giving: {write360Giving, "application/json; charset=utf-8", "json"},
	FormatOCDS:      {writeOCDS, "application/json; charset=utf-8", "json"},
}

// writePackage writes a package format and hashes what it wrote.
// ECONFLICT, before anything is written, while the publisher's settings are
// incomplete.
func writePackage(ctx context.Context, st *store.Store, w io.Writer, format string, pf packageFormat, pub Publisher, f Filter) (*Manifest, error) {
	if missing := pub.Missing(format); len(missing) > 0 {
		return nil, models.Errorf(models.ECONFLICT, "A %s file is not written until the publisher's details are configured, so that none is published "+
			"with placeholder identifiers: set %s (see the README, \"Open data\").", format, strings.Join(missing, ", "))
	}
	h := sha256.New()
	m := &Manifest{Format: format, Filters: f, GeneratedAt: time.Now().UTC()}
	if err := pf.write(ctx, st, io.MultiWriter(w, h), pub, f, m); err != nil {
		return nil, err
	}
	m.SHA256 = hex.EncodeToString(h.Sum(nil))
	return m, nil
}

// awardFilter checks f and turns it into the store's award filter: the
// dates apply to the day an award was made.
func (f Filter) awardFilter() (store.AwardFilter, error) {
	lf, err := f.ledgerFilter()
	return store.AwardFilter{Year: lf.Year, From: lf.From, To: lf.To, ProgrammeID: lf.ProgrammeID,
		FundingLineID: lf.FundingLineID, RecipientID: lf.PayeeID}, err
}

// amount is money as a JSON number written with the decimal's own digits
// (18500.00), so it never passes through a float64.
type amount decimal.Decimal

func (a amount) MarshalJSON() ([]byte, error) {
	return []byte(models.FormatMoney(decimal.Decimal(a))), nil
}

// orgIdentifier is an organisation's org-id, or, when it has none, the
// form 360Giving's identifier guidance gives for organisations without a
// company or charity number: the publisher's prefix, "ORG" and granttrack's
// own id. Recipients have an org-id before their first award (the database
// holds that rule), so only funders and payees recorded before it can need
// the fallback.
func orgIdentifier(prefix string, orgID *string, id int64) string {
	if orgID != nil && *orgID != "" {
		return *orgID
	}
	return fmt.Sprintf("%s-ORG-%d", prefix, id)
}

// writeJSONArrayPackage writes head (a JSON object) with an array called
// field whose items come from items, without holding the items together.
func writeJSONArrayPackage(w io.Writer, head any, field string, items func(item func(v any) error) error) error {
	b, err := json.Marshal(head)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(w, "%s,%q:[", b[:len(b)-1], field); err != nil {
		return err
	}
	first := true
	err = items(func(v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if !first {
			b = append([]byte{','}, b...)
		}
		first = false
		_, err = w.Write(append(b, '\n'))
		return err
	})
	if err != nil {
		return err
	}
	_, err = io.WriteString(w, "]}\n")
	return err
}

func dateTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// dayStart and dayEnd write a calendar date as the first and last second of
// that day in UTC, for fields that want a date-time.
func dayStart(t time.Time) string { return t.Format(models.DateLayout) + "T00:00:00Z" }
func dayEnd(t time.Time) string   { return t.Format(models.DateLayout) + "T23:59:59Z" }

// 360Giving 1.4 ----------------------------------------------------------

// grantKinds are the line kinds published as grants: a contract buys
// services and is published through OCDS instead.
var grantKinds = []models.FundingLineKind{models.KindGrant, models.KindAllocation}

type package360 struct {
	Version     string       `json:"version"`
	Title       string       `json:"title"`
	Description string       `json:"description"`
	Identifier  string       `json:"identifier"`
	Issued      string       `json:"issued"`
	Modified    string       `json:"modified"`
	Publisher   publisher360 `json:"publisher"`
	License     string       `json:"license"`
}

type publisher360 struct {
	Name    string `json:"name"`
	Website string `json:"website,omitempty"`
}

type grant360 struct {
	ID                      string           `json:"id"`
	Title                   string           `json:"title"`
	Description             string           `json:"description"`
	Currency                string           `json:"currency"`
	AmountAwarded           amount           `json:"amountAwarded"`
	AmountDisbursed         amount           `json:"amountDisbursed"`
	AwardDate               string           `json:"awardDate"`
	PlannedDates            []event360       `json:"plannedDates"`
	RecipientOrganization   []org360         `json:"recipientOrganization"`
	FundingOrganization     []org360         `json:"fundingOrganization"`
	GrantProgramme          []programme360   `json:"grantProgramme"`
	BeneficiaryLocation     []location360    `json:"beneficiaryLocation,omitempty"`
	Classifications         []classification `json:"classifications"`
	DisbursementTransaction []transaction360 `json:"disbursementTransaction,omitempty"`
	DateModified            string           `json:"dateModified"`
}

type event360 struct {
	StartDate string `json:"startDate"`
	EndDate   string `json:"endDate"`
}

type org360 struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	CharityNumber string `json:"charityNumber,omitempty"`
	CompanyNumber string `json:"companyNumber,omitempty"`
}

type programme360 struct {
	Code        string `json:"code"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
}

type location360 struct {
	Name        string `json:"name"`
	CountryCode string `json:"countryCode"`
	GeoCode     string `json:"geoCode"`
	GeoCodeType string `json:"geoCodeType,omitempty"`
}

type classification struct {
	Vocabulary string `json:"vocabulary"`
	Code       string `json:"code"`
	Title      string `json:"title"`
}

type transaction360 struct {
	ID              string `json:"id"`
	TransactionDate string `json:"transactionDate"`
	Currency        string `json:"currency"`
	Value           amount `json:"value"`
	Description     string `json:"description,omitempty"`
	Provider        string `json:"provider"`
	Recipient       string `json:"recipient"`
}

func opt(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// toGrant360 describes an award as a 360Giving grant with its payments.
func toGrant360(pub Publisher, a store.AwardRecord, payments []transaction360) grant360 {
	desc := a.Purpose
	if desc == "" {
		desc = a.LineDescription
	}
	if desc == "" {
		desc = a.LineTitle
	}
	g := grant360{
		ID: pub.GrantID(a.Reference), Title: a.LineTitle + ": " + a.RecipientName, Description: desc,
		Currency: "GBP", AmountAwarded: amount(a.Amount), AmountDisbursed: amount(a.ApprovedSpend),
		AwardDate:    a.AwardedOn.Format(models.DateLayout),
		PlannedDates: []event360{{StartDate: a.StartsOn.Format(models.DateLayout), EndDate: a.EndsOn.Format(models.DateLayout)}},
		RecipientOrganization: []org360{{ID: orgIdentifier(pub.ThreeSixtyGivingPrefix, a.RecipientOrg, a.RecipientID), Name: a.RecipientName,
			CharityNumber: opt(a.RecipientCharity), CompanyNumber: opt(a.RecipientCompany)}},
		FundingOrganization:     []org360{{ID: orgIdentifier(pub.ThreeSixtyGivingPrefix, a.FunderOrg, a.FunderID), Name: a.FunderName}},
		GrantProgramme:          []programme360{{Code: a.ProgrammeCode, Title: a.ProgrammeName, Description: a.ProgrammeDescription}},
		Classifications:         []classification{{Vocabulary: "granttrack:funding-line", Code: a.LineCode, Title: a.LineTitle}},
		DisbursementTransaction: payments,
		// The last change to anything the grant publishes: the award and its
		// decision, its payments' decisions, its line, programme, funder and
		// recipient (see store.AwardRecord.ModifiedAt).
		// To the microsecond, as the database holds it, so that a change in
		// the same second as the one before still changes it.
		DateModified: a.ModifiedAt.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano),
	}
	if a.RecipientGSS != nil {
		name := a.RecipientName
		if a.RecipientBorough != nil {
			name = *a.RecipientBorough
		}
		g.BeneficiaryLocation = []location360{{Name: name, CountryCode: "GB", GeoCode: *a.RecipientGSS, GeoCodeType: geoCodeType(*a.RecipientGSS)}}
	}
	return g
}

// write360Giving writes one grant per award on a grant or allocation line
// made in the filter's dates, each with every approved payment linked to it
// (reversals as negative disbursements), so amountDisbursed is the award's
// approved spend to date. Grants are written as their payments stream by.
func write360Giving(ctx context.Context, st *store.Store, w io.Writer, pub Publisher, f Filter, m *Manifest) error {
	af, err := f.awardFilter()
	if err != nil {
		return err
	}
	af.Kinds = grantKinds
	total, approved := decimal.Zero, decimal.Zero
	head, err := st.ReadSnapshot(ctx, func(ctx context.Context, st *store.Store, head store.ChainHead) error {
		awards, err := st.PublishableAwards(ctx, af)
		if err != nil {
			return err
		}
		if len(awards) == 0 {
			return models.Errorf(models.ENOTFOUND, "No grants match these filters, and a 360Giving file must hold at least one.")
		}
		ids := make([]int64, len(awards))
		for i, a := range awards {
			ids[i] = a.ID
		}
		hdr := package360{Version: "1.4", Title: "Grants from " + pub.Name, Identifier: fmt.Sprintf("%s-%s", pub.ThreeSixtyGivingPrefix, m.GeneratedAt.Format("20060102T150405Z")),
			Description: "Grants and allocations with their approved payments, exported by granttrack.",
			Issued:      models.BusinessDate(m.GeneratedAt).Format(models.DateLayout), Modified: dateTime(m.GeneratedAt),
			Publisher: publisher360{Name: pub.Name, Website: pub.URI}, License: pub.Licence}
		return writeJSONArrayPackage(w, hdr, "grants", func(item func(any) error) error {
			next := 0
			var payments []transaction360
			paid := decimal.Zero
			flush := func() error {
				a := awards[next]
				if !paid.Equal(a.ApprovedSpend) {
					return fmt.Errorf("award %s: payments add up to %s but its approved spend is %s", a.Reference,
						models.FormatMoney(paid), models.FormatMoney(a.ApprovedSpend))
				}
				m.Rows++
				total, approved = total.Add(a.Amount), approved.Add(paid)
				err := item(toGrant360(pub, a, payments))
				payments, paid, next = nil, decimal.Zero, next+1
				return err
			}
			err := st.StreamAwardPayments(ctx, ids, func(p store.AwardPayment) error {
				for awards[next].ID != p.AwardID {
					if err := flush(); err != nil {
						return err
					}
				}
				a := awards[next]
				desc := p.Description
				if p.ReversesID != nil {
					desc = fmt.Sprintf("Reversal of payment %d: %s", *p.ReversesID, opt(p.ReversalReason))
				}
				payments = append(payments, transaction360{ID: fmt.Sprintf("%s-%s-SPEND-%d", pub.ThreeSixtyGivingPrefix, a.Reference, p.ID),
					TransactionDate: p.IncurredOn.Format(models.DateLayout), Currency: "GBP", Value: amount(p.Amount), Description: desc,
					Provider:  orgIdentifier(pub.ThreeSixtyGivingPrefix, a.FunderOrg, a.FunderID),
					Recipient: orgIdentifier(pub.ThreeSixtyGivingPrefix, p.PayeeOrg, p.PayeeID)})
				paid = paid.Add(p.Amount)
				return nil
			})
			if err != nil {
				return err
			}
			for next < len(awards) {
				if err := flush(); err != nil {
					return err
				}
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	m.Total, m.Approved = models.FormatMoney(total), models.FormatMoney(approved)
	m.AuditSeq, m.AuditHash = head.Seq, hex.EncodeToString(head.Hash)
	return nil
}

// OCDS 1.1 ---------------------------------------------------------------

type packageOCDS struct {
	URI           string        `json:"uri"`
	Version       string        `json:"version"`
	PublishedDate string        `json:"publishedDate"`
	Publisher     publisherOCDS `json:"publisher"`
	License       string        `json:"license"`
}

type publisherOCDS struct {
	Name string `json:"name"`
	// Scheme and UID are the publisher's org-id, split into its org-id.guide
	// list code and the identifier within it, as OCDS asks.
	Scheme string `json:"scheme,omitempty"`
	UID    string `json:"uid,omitempty"`
	URI    string `json:"uri,omitempty"`
}

type release struct {
	OCID           string      `json:"ocid"`
	ID             string      `json:"id"`
	Date           string      `json:"date"`
	Tag            []string    `json:"tag"`
	InitiationType string      `json:"initiationType"`
	Parties        []*party    `json:"parties"`
	Buyer          orgRef      `json:"buyer"`
	Tender         tender      `json:"tender"`
	Awards         []ocdsAward `json:"awards,omitempty"`
	Contracts      []contract  `json:"contracts,omitempty"`
	byID           map[string]*party
	prefix         string // for organisations without an org-id
}

type party struct {
	ID         string      `json:"id"`
	Name       string      `json:"name"`
	Identifier *identifier `json:"identifier,omitempty"`
	Roles      []string    `json:"roles"`
}

type identifier struct {
	Scheme    string `json:"scheme"`
	ID        string `json:"id"`
	LegalName string `json:"legalName"`
}

type orgRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type value struct {
	Amount   amount `json:"amount"`
	Currency string `json:"currency"`
}

type period struct {
	StartDate string `json:"startDate,omitempty"`
	EndDate   string `json:"endDate,omitempty"`
}

type tender struct {
	ID                      string         `json:"id"`
	Title                   string         `json:"title"`
	Description             string         `json:"description,omitempty"`
	Status                  string         `json:"status"`
	ProcuringEntity         orgRef         `json:"procuringEntity"`
	MinValue                *value         `json:"minValue,omitempty"`
	Value                   *value         `json:"value,omitempty"`
	ProcurementMethod       string         `json:"procurementMethod,omitempty"`
	ProcurementDetails      string         `json:"procurementMethodDetails,omitempty"`
	ProcurementRationale    string         `json:"procurementMethodRationale,omitempty"`
	MainProcurementCategory string         `json:"mainProcurementCategory,omitempty"`
	TenderPeriod            *period        `json:"tenderPeriod,omitempty"`
	Documents               []ocdsDocument `json:"documents,omitempty"`
}

// ocdsDocument is a contract line's document as OCDS describes it: its
// kind from the documentType codelist, its title, the day it was
// published (an invitation to tender) or signed (a contract), and its
// media type.
type ocdsDocument struct {
	ID            string `json:"id"`
	DocumentType  string `json:"documentType"`
	Title         string `json:"title"`
	DatePublished string `json:"datePublished"`
	Format        string `json:"format"`
}

// ocdsDocumentTypes are OCDS's document types for our kinds.
var ocdsDocumentTypes = map[models.ContractDocumentKind]string{
	models.DocInvitationToTender: "tenderNotice", models.DocTenderDocument: "biddingDocuments", models.DocContract: "contractSigned",
}

func toOCDSDocument(d *models.ContractDocument) ocdsDocument {
	return ocdsDocument{ID: fmt.Sprintf("document-%d", d.ID), DocumentType: ocdsDocumentTypes[d.Kind], Title: d.Title,
		DatePublished: dayStart(d.DocumentDate), Format: strings.SplitN(d.ContentType, ";", 2)[0]}
}

// ocdsMethods are OCDS's procurement methods for ours: the restricted and
// negotiated procedures invite chosen suppliers (selective); a call-off
// from a framework goes to the framework's suppliers only (limited).
var ocdsMethods = map[models.ProcurementMethod]string{
	models.MethodOpen: "open", models.MethodRestricted: "selective", models.MethodCompetitiveWithNegotiation: "selective",
	models.MethodDirectAward: "direct", models.MethodFrameworkCallOff: "limited",
}

type ocdsAward struct {
	ID             string   `json:"id"`
	Title          string   `json:"title"`
	Description    string   `json:"description,omitempty"`
	Status         string   `json:"status"`
	Date           string   `json:"date"`
	Value          value    `json:"value"`
	Suppliers      []orgRef `json:"suppliers"`
	ContractPeriod period   `json:"contractPeriod"`
}

type contract struct {
	ID             string         `json:"id"`
	AwardID        string         `json:"awardID"`
	Title          string         `json:"title"`
	Description    string         `json:"description,omitempty"`
	Status         string         `json:"status"`
	Period         period         `json:"period"`
	Value          value          `json:"value"`
	DateSigned     string         `json:"dateSigned"`
	Implementation implementation `json:"implementation"`
	Documents      []ocdsDocument `json:"documents,omitempty"`
}

type implementation struct {
	Transactions []transactionOCDS `json:"transactions"`
}

type transactionOCDS struct {
	ID    string `json:"id"`
	Date  string `json:"date"`
	Value value  `json:"value"`
	Payer orgRef `json:"payer"`
	Payee orgRef `json:"payee"`
}

// addParty adds an organisation to the release's parties with a role, once.
func (r *release) addParty(orgID *string, id int64, name, role string) orgRef {
	ref := orgRef{ID: orgIdentifier(r.prefix, orgID, id), Name: name}
	p := r.byID[ref.ID]
	if p == nil {
		p = &party{ID: ref.ID, Name: name}
		if orgID != nil {
			// An org-id is its register's prefix (GB-COH) and the number in it.
			parts := strings.SplitN(*orgID, "-", 3)
			if len(parts) == 3 {
				p.Identifier = &identifier{Scheme: parts[0] + "-" + parts[1], ID: parts[2], LegalName: name}
			}
		}
		r.byID[ref.ID] = p
		r.Parties = append(r.Parties, p)
	}
	for _, have := range p.Roles {
		if have == role {
			return ref
		}
	}
	p.Roles = append(p.Roles, role)
	return ref
}

func gbp(d decimal.Decimal) value { return value{Amount: amount(d), Currency: "GBP"} }

// toRelease describes a contract-kind funding line as one OCDS release: its
// tender (the advertised band as minValue and value), one award and one
// contract per award, and the approved payments as the contract's
// implementation transactions. Approved spend on the line that is linked to
// no award (payments keyed 0) is spend under the contract all the same: it
// goes to the contract with its payee as supplier, or else to the line's
// first contract, so that the transactions add up to the line's approved
// spend. A line with no award has no contract to hold it (OCDS keeps
// payments only under a contract); the manifest's approved total then
// leaves it out.
func toRelease(pub Publisher, c store.ContractProcess, awards []store.AwardRecord, payments map[int64][]store.AwardPayment, docs []*models.ContractDocument,
	head store.ChainHead, now time.Time) (release, decimal.Decimal, decimal.Decimal) {
	r := release{OCID: pub.OCIDPrefix + "-granttrack-" + c.Code, ID: fmt.Sprintf("%s-%d", c.Code, head.Seq), Date: dateTime(now),
		Tag: []string{"tender"}, InitiationType: "tender", byID: map[string]*party{}, prefix: pub.ThreeSixtyGivingPrefix}
	if r.prefix == "" {
		r.prefix = pub.OCIDPrefix + "-granttrack"
	}
	held := map[int64][]store.AwardPayment{}
	for _, a := range awards {
		held[a.ID] = payments[a.ID]
	}
	for _, p := range payments[-c.ID] {
		to := -1
		for i, a := range awards {
			if a.RecipientID == p.PayeeID {
				to = i
				break
			}
		}
		if to < 0 && len(awards) > 0 {
			to = 0
		}
		if to >= 0 {
			held[awards[to].ID] = append(held[awards[to].ID], p)
		}
	}
	payments = held
	buyer := r.addParty(c.FunderOrg, c.FunderID, c.FunderName, "buyer")
	r.addParty(c.FunderOrg, c.FunderID, c.FunderName, "procuringEntity")
	r.Buyer = buyer
	r.Tender = tender{ID: c.Code, Title: c.Title, Description: c.Description, Status: "active", ProcuringEntity: buyer,
		ProcurementDetails: models.Procedure(c.ProcurementMethod, c.FrameworkName, c.DirectAwardReason)}
	if c.ProcurementMethod != nil {
		r.Tender.ProcurementMethod = ocdsMethods[*c.ProcurementMethod]
	}
	if c.DirectAwardReason != nil {
		r.Tender.ProcurementRationale = *c.DirectAwardReason
	}
	if c.MainCategory != nil {
		r.Tender.MainProcurementCategory = *c.MainCategory
	}
	if c.TenderReference != nil {
		r.Tender.ID = *c.TenderReference
	}
	if c.TenderMinValue != nil && c.TenderMaxValue != nil {
		lo, hi := gbp(*c.TenderMinValue), gbp(*c.TenderMaxValue)
		r.Tender.MinValue, r.Tender.Value = &lo, &hi
	}
	if c.TenderPublishedOn != nil || c.TenderClosesOn != nil {
		r.Tender.TenderPeriod = &period{}
		if c.TenderPublishedOn != nil {
			r.Tender.TenderPeriod.StartDate = dayStart(*c.TenderPublishedOn)
		}
		if c.TenderClosesOn != nil {
			r.Tender.TenderPeriod.EndDate = dayEnd(*c.TenderClosesOn)
		}
	}
	var contractDocs []ocdsDocument
	for _, d := range docs {
		if d.Kind == models.DocContract {
			contractDocs = append(contractDocs, toOCDSDocument(d))
		} else {
			r.Tender.Documents = append(r.Tender.Documents, toOCDSDocument(d))
		}
	}
	title := c.Title
	if c.ContractTitle != nil {
		title = *c.ContractTitle
	}
	if c.SupplierID != nil {
		r.addParty(c.SupplierOrg, *c.SupplierID, opt(c.SupplierName), "supplier")
	}
	awarded, paid := decimal.Zero, decimal.Zero
	for _, a := range awards {
		supplier := r.addParty(a.RecipientOrg, a.RecipientID, a.RecipientName, "supplier")
		cp := period{StartDate: dayStart(a.StartsOn), EndDate: dayEnd(a.EndsOn)}
		r.Awards = append(r.Awards, ocdsAward{ID: a.Reference, Title: title, Description: a.Purpose, Status: "active",
			Date: dayStart(a.AwardedOn), Value: gbp(a.Amount), Suppliers: []orgRef{supplier}, ContractPeriod: cp})
		k := contract{ID: a.Reference, AwardID: a.Reference, Title: title, Description: a.Purpose, Status: "active",
			Period: cp, Value: gbp(a.Amount), DateSigned: dayStart(a.AwardedOn), Implementation: implementation{Transactions: []transactionOCDS{}}}
		// The award on a contract line is the contract: a line's one award
		// carries the contract record's value and period.
		if len(awards) == 1 && c.ContractValue != nil && c.ContractStartsOn != nil && c.ContractEndsOn != nil {
			k.Value, k.Period = gbp(*c.ContractValue), period{StartDate: dayStart(*c.ContractStartsOn), EndDate: dayEnd(*c.ContractEndsOn)}
		}
		if a.EndsOn.Before(models.BusinessDate(now)) {
			k.Status = "terminated" // the contract's period is over
		}
		for _, p := range payments[a.ID] {
			payee := r.addParty(p.PayeeOrg, p.PayeeID, p.PayeeName, "payee")
			r.addParty(c.FunderOrg, c.FunderID, c.FunderName, "payer")
			k.Implementation.Transactions = append(k.Implementation.Transactions, transactionOCDS{ID: fmt.Sprintf("spend-%d", p.ID),
				Date: dayStart(p.IncurredOn), Value: gbp(p.Amount), Payer: buyer, Payee: payee})
			paid = paid.Add(p.Amount)
		}
		if len(r.Contracts) == 0 {
			k.Documents = contractDocs // the line's contract: its first award
		}
		r.Contracts = append(r.Contracts, k)
		awarded = awarded.Add(a.Amount)
	}
	switch {
	case c.Status == models.StatusCancelled:
		r.Tender.Status = "cancelled"
	case len(awards) > 0:
		r.Tender.Status = "complete"
		r.Tag = append(r.Tag, "award", "contract")
	}
	for _, a := range awards {
		if len(payments[a.ID]) > 0 {
			r.Tag = append(r.Tag, "implementation")
			break
		}
	}
	return r, awarded, paid
}

// writeOCDS writes one release per contract-kind funding line that the
// filter selects (see store.ContractProcesses for how a process is dated).
// The payments of the contracts in the package are held together while it
// is written: contract lines are few.
// toPublisherOCDS is the package's publisher: its name and address and,
// when set, its org-id as scheme (e.g. GB-GOR) and uid (e.g. PC000001).
func toPublisherOCDS(pub Publisher) publisherOCDS {
	out := publisherOCDS{Name: pub.Name, URI: pub.URI}
	if id, err := models.NormaliseOrgID(pub.OrgID); err == nil && id != "" {
		country, rest, _ := strings.Cut(id, "-")
		register, uid, _ := strings.Cut(rest, "-")
		out.Scheme, out.UID = country+"-"+register, uid
	}
	return out
}

func writeOCDS(ctx context.Context, st *store.Store, w io.Writer, pub Publisher, f Filter, m *Manifest) error {
	af, err := f.awardFilter()
	if err != nil {
		return err
	}
	total, approved := decimal.Zero, decimal.Zero
	head, err := st.ReadSnapshot(ctx, func(ctx context.Context, st *store.Store, head store.ChainHead) error {
		procs, err := st.ContractProcesses(ctx, af)
		if err != nil {
			return err
		}
		if len(procs) == 0 {
			return models.Errorf(models.ENOTFOUND, "No contracts match these filters, and an OCDS release package must hold at least one release.")
		}
		lineIDs := make([]int64, len(procs))
		for i, p := range procs {
			lineIDs[i] = p.ID
		}
		awards, err := st.PublishableAwards(ctx, store.AwardFilter{LineIDs: lineIDs})
		if err != nil {
			return err
		}
		byLine := map[int64][]store.AwardRecord{}
		awardIDs := make([]int64, len(awards))
		for i, a := range awards {
			byLine[a.LineID] = append(byLine[a.LineID], a)
			awardIDs[i] = a.ID
		}
		payments := map[int64][]store.AwardPayment{}
		if err := st.StreamAwardPayments(ctx, awardIDs, func(p store.AwardPayment) error {
			payments[p.AwardID] = append(payments[p.AwardID], p)
			return nil
		}); err != nil {
			return err
		}
		// Spend on the lines linked to no award, keyed by the line's id
		// negated (award ids are positive).
		if err := st.StreamLineSpendWithoutAward(ctx, lineIDs, func(p store.AwardPayment) error {
			payments[-p.LineID] = append(payments[-p.LineID], p)
			return nil
		}); err != nil {
			return err
		}
		docs, err := st.CurrentDocuments(ctx, lineIDs)
		if err != nil {
			return err
		}
		hdr := packageOCDS{URI: fmt.Sprintf("%s/ocds/%s/release-package/%s", strings.TrimRight(pub.URI, "/"), pub.OCIDPrefix, m.GeneratedAt.Format("20060102T150405Z")),
			Version: "1.1", PublishedDate: dateTime(m.GeneratedAt), Publisher: toPublisherOCDS(pub), License: pub.Licence}
		return writeJSONArrayPackage(w, hdr, "releases", func(item func(any) error) error {
			for _, p := range procs {
				r, awarded, paid := toRelease(pub, p, byLine[p.ID], payments, docs[p.ID], head, m.GeneratedAt)
				m.Rows++
				total, approved = total.Add(awarded), approved.Add(paid)
				if err := item(r); err != nil {
					return err
				}
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	m.Total, m.Approved = models.FormatMoney(total), models.FormatMoney(approved)
	m.AuditSeq, m.AuditHash = head.Seq, hex.EncodeToString(head.Hash)
	return nil
}
