// Package demo loads a true-to-life data set for London's policing and crime
// funding (see shared SCENARIO.md): MOPAC's Police and Crime Plan 2022-25, its
// programmes and funding lines, and one user per role.
package demo

import (
	"context"
	"fmt"
	"strings"

	"granttrack/app/auth"
	"granttrack/app/store"
	"granttrack/models"
)

// Password is every demo user's password; the demo is for trying out, not
// for real data.
const Password = "granttrack-demo"

// User is one demo sign-in.
type User struct {
	Email, Name string
	Role        models.Role
}

// Users are the demo sign-ins: one per role plus a second finance officer,
// so that maker-checker can be tried. The admin manages accounts and the
// scheme of delegation and approves no money; the finance manager
// (Users[FinanceManager]) approves above the officers' limits.
var Users = []User{
	{"admin@granttrack.example", "Amina Okafor", models.RoleAdmin},
	{"finance@granttrack.example", "Fiona Marsh", models.RoleFinanceOfficer},
	{"finance2@granttrack.example", "Tomasz Nowak", models.RoleFinanceOfficer},
	{"board@granttrack.example", "Bola Adeyemi", models.RoleBoardMember},
	{"auditor@granttrack.example", "Priya Raman", models.RoleAuditor},
	{"manager@granttrack.example", "Grace Whitfield", models.RoleFinanceManager},
	{"admin2@granttrack.example", "Kwame Mensah", models.RoleAdmin},
}

// AwaitingGrant is the demo's account that an admin made as a finance
// officer and a second admin (Users[6]) has yet to approve on /approvals:
// it signs in, but approves nothing until then.
var AwaitingGrant = User{"newfinance@granttrack.example", "Dan Okoro", models.RoleFinanceOfficer}

// FinanceManager is the index in Users of the demo's finance manager.
const FinanceManager = 5

// Auditor is the index in Users of the demo's auditor, who signs in with
// two-factor: a TOTP code from TOTPSecret after the password.
const Auditor = 4

// TOTPSecret is the demo auditor's published TOTP secret: add it to an
// authenticator app (or compute a code from it) to sign in as them.
const TOTPSecret = "GRANTTRACKDEMOAUDITORTOTPSECRET2"

// TwoFactorRoles are the roles the demo asks for two-factor sign-in: the
// auditor's only, so that every other demo user signs in with the
// published password alone and the demo stays walkable. A new database
// asks it of admins, finance officers, finance managers and auditors.
var TwoFactorRoles = []models.Role{models.RoleAuditor}

var actor = models.SystemActor("demo data")

// Load stores the demo data unless it is already there, and reports whether
// it loaded anything. A second run keeps the data as it is.
func Load(ctx context.Context, st *store.Store) (bool, error) { return load(ctx, st, true) }

// LoadIntoEmpty is Load for the demo command: it loads the demo data only
// into a database that holds nothing yet, because the demo's users sign in
// with a published password. A database already holding the demo keeps it
// (false, nil); one holding anything else is refused with ECONFLICT, naming
// what it holds.
func LoadIntoEmpty(ctx context.Context, st *store.Store) (bool, error) {
	if _, err := st.UserByEmail(ctx, Users[0].Email); err == nil {
		return false, nil
	} else if models.ErrorCode(err) != models.ENOTFOUND {
		return false, err
	}
	var held []string
	// Every change of state writes an audit event, so the trail alone would
	// do; the tables are named too, for rows written behind the application.
	err := st.DB().NewRaw(`SELECT what FROM (VALUES
		('users', EXISTS (SELECT 1 FROM users)),
		('organisations', EXISTS (SELECT 1 FROM organisations)),
		('programmes', EXISTS (SELECT 1 FROM programmes)),
		('funding lines', EXISTS (SELECT 1 FROM funding_lines)),
		('spend entries', EXISTS (SELECT 1 FROM spend_entries)),
		('audit events', EXISTS (SELECT 1 FROM audit_events))) AS t (what, held) WHERE held`).Scan(ctx, &held)
	if err != nil {
		return false, fmt.Errorf("demo: %w", err)
	}
	if len(held) > 0 {
		return false, models.Errorf(models.ECONFLICT, "The database already holds %s, so the demo data was not loaded: the demo loads only into an empty database, since its users sign in with a published password. Serve this database with `granttrack serve`, or run the demo on a fresh --data-dir.",
			strings.Join(held, ", "))
	}
	loaded, err := Load(ctx, st)
	if err != nil || !loaded {
		return loaded, err
	}
	if _, err := st.SetTwoFactorRoles(ctx, actor, TwoFactorRoles); err != nil {
		return false, fmt.Errorf("demo: two-factor roles: %w", err)
	}
	return true, nil
}

// LoadFunding stores only the 2022-25 plan's organisations, programmes,
// funding lines and awards, with no spend or outcomes, for tests that
// record payments of their own.
func LoadFunding(ctx context.Context, st *store.Store) (bool, error) { return load(ctx, st, false) }

func load(ctx context.Context, st *store.Store, story bool) (bool, error) {
	if _, err := st.UserByEmail(ctx, Users[0].Email); err == nil {
		return false, nil
	} else if models.ErrorCode(err) != models.ENOTFOUND {
		return false, err
	}
	// All or nothing: a failed load leaves no half of the demo behind.
	err := st.InTx(ctx, func(ctx context.Context, st *store.Store) error {
		l := &loader{ctx: ctx, st: st, orgs: map[string]int64{}, progs: map[string]int64{}, lines: map[string]int64{}}
		l.users()
		l.twoFactor()
		l.awaitingGrant()
		l.decisionMakers()
		l.organisations()
		l.programmes()
		l.fundingLines()
		l.awards()
		l.tenderDocuments()
		l.reprofileDrugSupply()
		if story {
			l.currentLines()
			l.payments()
			l.paymentRuns()
			l.pendingVirement()
			l.pendingVariation()
			l.outcomes()
			l.officeHolderExpenses()
			l.contractException()
		}
		return l.err
	})
	if err != nil || !story {
		return err == nil, err
	}
	// An import runs in a transaction of its own, so it follows the load.
	return true, importAwaitingApproval(ctx, st)
}

// demoImport is a month's delivery costs on the knife crime hotspot line,
// as a finance system would export them: imported by one finance officer,
// left for the other to approve whole (or reject) on /spend.
const demoImport = `funding_line,award,payee,amount,incurred_on,category,reference,description,purpose,vfm_reason
KNIFE-CRIME-HOTSPOTS,VRU-KCH-2026-001,GB-LAE-LBH,420.00,2026-10-06,services,LBH-KCH-1001,Venue hire for Stockwell evening sessions,,
KNIFE-CRIME-HOTSPOTS,VRU-KCH-2026-001,GB-LAE-LBH,1860.00,2026-10-13,staff,LBH-KCH-1002,Two detached youth workers (October),Detached youth work in Brixton and Stockwell,Council pay scales; no agency premium
KNIFE-CRIME-HOTSPOTS,VRU-KCH-2026-002,GB-LAE-SWK,385.50,2026-10-09,training,SWK-KCH-0417,First aid and bleed-control training for youth workers,,
KNIFE-CRIME-HOTSPOTS,VRU-KCH-2026-002,GB-LAE-SWK,1240.00,2026-10-20,staff,SWK-KCH-0418,Sessional youth workers in Peckham (October),Detached youth work in Peckham and Walworth,Sessional rates below the framework ceiling
KNIFE-CRIME-HOTSPOTS,,Southside Youth Futures (fictional),275.00,2026-10-27,equipment,SYF-2210,Outreach kit: radios and high-visibility vests,,
`

func importAwaitingApproval(ctx context.Context, st *store.Store) error {
	u, err := st.UserByEmail(ctx, Users[1].Email)
	if err != nil {
		return err
	}
	_, err = st.ImportSpend(ctx, models.Actor{UserID: u.ID, Label: u.Email, Role: u.Role, RequestID: "demo data"},
		strings.NewReader(demoImport), store.ImportOptions{FileName: "hotspots-october-2026.csv"})
	return err
}

// loader keeps the first error so the data reads as a list, not a ladder of checks.
type loader struct {
	ctx context.Context
	st  *store.Store
	err error
	// Every money decision is two people's: a finance officer proposes and
	// the finance manager approves, citing the plan's decision record where the
	// scheme of delegation asks for one.
	proposer, approver models.Actor
	plan               int64 // the decision record lines and awards cite
	orgs               map[string]int64
	progs              map[string]int64
	lines              map[string]int64
}

func (l *loader) fail(what string, err error) {
	if err != nil && l.err == nil {
		l.err = fmt.Errorf("%s: %w", what, err)
	}
}

func (l *loader) users() {
	hash, err := auth.HashPassword(Password)
	l.fail("hash password", err)
	for _, u := range Users {
		if l.err != nil {
			return
		}
		l.fail(u.Email, l.st.CreateUser(l.ctx, actor, &models.User{Email: u.Email, Name: u.Name, Role: u.Role, PasswordHash: hash, Active: true}))
	}
}

// twoFactor enrols the demo auditor in two-factor sign-in with
// TOTPSecret (no recovery codes: the secret is published anyway).
func (l *loader) twoFactor() {
	if l.err != nil {
		return
	}
	u, err := l.st.UserByEmail(l.ctx, Users[Auditor].Email)
	l.fail(Users[Auditor].Email, err)
	if l.err != nil {
		return
	}
	_, err = l.st.StartTOTPEnrolment(l.ctx, u.ID, TOTPSecret)
	l.fail("two-factor enrolment", err)
	if l.err == nil {
		l.fail("two-factor enrolment", l.st.ConfirmTOTP(l.ctx, actor, u.ID, 0, nil))
	}
}

// awaitingGrant has the admin add AwaitingGrant, whose grant of money
// authority waits for the second admin.
func (l *loader) awaitingGrant() {
	if l.err != nil {
		return
	}
	admin, err := l.st.UserByEmail(l.ctx, Users[0].Email)
	l.fail(Users[0].Email, err)
	hash, herr := auth.HashPassword(Password)
	l.fail("hash password", herr)
	if l.err != nil {
		return
	}
	u := &models.User{Email: AwaitingGrant.Email, Name: AwaitingGrant.Name, Role: AwaitingGrant.Role, PasswordHash: hash, Active: true}
	_, err = l.st.AddAccount(l.ctx, models.Actor{UserID: admin.ID, Label: admin.Email, Role: admin.Role, RequestID: "demo data"}, u,
		"Joins the VRU finance team in December")
	l.fail("account awaiting a grant", err)
}

func (l *loader) decisionMakers() {
	for i, a := range map[int]*models.Actor{FinanceManager: &l.approver, 1: &l.proposer} {
		u, err := l.st.UserByEmail(l.ctx, Users[i].Email)
		l.fail(Users[i].Email, err)
		if err == nil {
			*a = models.Actor{UserID: u.ID, Label: u.Email, Role: u.Role, RequestID: "demo data"}
		}
	}
	r, err := models.DecisionRecordInput{Reference: "DEMO-PCD-2022-01", Title: "Funding for the Police and Crime Plan 2022-25 (demo record)",
		SignedOn: "2022-04-01", DecisionMaker: "Deputy Mayor for Policing and Crime"}.Validate()
	l.fail("decision record", err)
	if l.err == nil {
		l.fail("decision record", l.st.CreateDecisionRecord(l.ctx, l.approver, r))
		l.plan = r.ID
	}
}

// setStatus moves a line on: approval and activation proposed by the
// finance officer and approved by the finance manager; closing by the officer.
func (l *loader) setStatus(lineID int64, to models.FundingLineStatus) error {
	if models.LineDecisionKind(to) == "" {
		_, err := l.st.ChangeFundingLineStatus(l.ctx, l.proposer, lineID, to, "The plan's period has ended")
		return err
	}
	d, err := l.st.ProposeLineStatus(l.ctx, l.proposer, lineID, to, "Police and Crime Plan 2022-25", &l.plan)
	if err != nil {
		return err
	}
	_, err = l.st.DecideLineStatus(l.ctx, l.approver, d.ID, models.DecisionApproved, "")
	return err
}

// award proposes an award as the finance officer and approves it as the
// finance manager.
func (l *loader) award(a *models.Award) error {
	if a.DecisionRecordID == nil {
		a.DecisionRecordID = &l.plan
	}
	if err := l.st.CreateAward(l.ctx, l.proposer, a); err != nil {
		return err
	}
	_, err := l.st.DecideAward(l.ctx, l.approver, a.ID, models.DecisionApproved, "")
	return err
}

func ptr[T any](v T) *T { return &v }

func (l *loader) organisations() {
	orgs := []models.OrganisationInput{
		{Name: "Mayor's Office for Policing and Crime", OrgID: ptr("GB-GOR-PC390"), Borough: ptr("City of London"), IsFunder: true},
		{Name: "London Violence Reduction Unit", OrgID: ptr("GB-GOR-PC391"), IsFunder: true},
		{Name: "Metropolitan Police Service", OrgID: ptr("GB-GOR-PC392"), Borough: ptr("Westminster"), IsRecipient: true},
		{Name: "London Borough of Lambeth", OrgID: ptr("GB-LAE-LBH"), Borough: ptr("Lambeth"), GSSCode: ptr("E09000022"), IsRecipient: true},
		{Name: "London Borough of Southwark", OrgID: ptr("GB-LAE-SWK"), Borough: ptr("Southwark"), GSSCode: ptr("E09000028"), IsRecipient: true},
		{Name: "London Borough of Hackney", OrgID: ptr("GB-LAE-HCK"), Borough: ptr("Hackney"), GSSCode: ptr("E09000012"), IsRecipient: true},
		{Name: "London Borough of Newham", OrgID: ptr("GB-LAE-NWM"), Borough: ptr("Newham"), GSSCode: ptr("E09000025"), IsRecipient: true},
		{Name: "Galop", OrgID: ptr("GB-CHC-1077810"), CharityNumber: ptr("1077810"), Borough: ptr("Lambeth"), IsRecipient: true},
		{Name: "Southside Youth Futures (fictional)", OrgID: ptr("GB-CHC-1190001"), CharityNumber: ptr("1190001"), Borough: ptr("Southwark"), IsRecipient: true},
		{Name: "Safe Homes Advocacy Network (fictional)", OrgID: ptr("GB-CHC-1185522"), CharityNumber: ptr("1185522"), Borough: ptr("Newham"), IsRecipient: true},
		{Name: "Allyship Learning Ltd (fictional)", OrgID: ptr("GB-COH-01234567"), CompanyNumber: ptr("01234567"), Borough: ptr("Camden"), IsSupplier: true},
		{Name: "Evidence and Insight Research Ltd (fictional)", OrgID: ptr("GB-COH-09876543"), CompanyNumber: ptr("09876543"), Borough: ptr("Islington"), IsSupplier: true},
	}
	for _, in := range orgs {
		if l.err != nil {
			return
		}
		o, err := in.Validate()
		l.fail(in.Name, err)
		if l.err == nil {
			l.fail(in.Name, l.st.CreateOrganisation(l.ctx, actor, o))
			l.orgs[o.Name] = o.ID
		}
	}
}

const plan = "Police and Crime Plan 2022-25"

func (l *loader) programmes() {
	for _, in := range []models.ProgrammeInput{
		{Code: "VIOLENCE", Name: "Reducing and preventing violence", Plan: plan,
			Description: "Violence affecting young people, violence against women and girls, reoffending by the most violent, hate crime and terrorism."},
		{Code: "TRUST", Name: "Increasing trust and confidence in the Met", Plan: plan,
			Description: "Raising public trust in the Metropolitan Police Service, with a focus on Black Londoners, stop and search and use of force."},
		{Code: "VICTIMS", Name: "Better supporting victims", Plan: plan,
			Description: "Including repeat victims of domestic abuse and sexual violence."},
		{Code: "EXPLOITATION", Name: "Protecting people from being exploited or harmed", Plan: plan,
			Description: "Including drug-related exploitation such as county lines."},
	} {
		if l.err != nil {
			return
		}
		p, err := in.Validate()
		l.fail(in.Code, err)
		if l.err == nil {
			l.fail(in.Code, l.st.CreateProgramme(l.ctx, actor, p))
			l.progs[p.Code] = p.ID
		}
	}
}

type lineSpec struct {
	in        models.FundingLineInput
	programme string
	funder    string
	supplier  string
	status    []models.FundingLineStatus // the transitions to walk
}

var (
	mopac = "Mayor's Office for Policing and Crime"
	vru   = "London Violence Reduction Unit"
	live  = []models.FundingLineStatus{models.StatusApproved, models.StatusActive}
)

func (l *loader) fundingLines() {
	specs := []lineSpec{
		{in: models.FundingLineInput{Code: "DRUG-SUPPLY", Kind: "allocation", Budget: "2000000.00", StartsOn: "2022-04-01", EndsOn: "2025-03-31",
			Title:       "Tackling drug supply",
			Description: "Additional funding from MOPAC to the Met for resources to tackle the supply of drugs across London, announced with the Police and Crime Plan 2022-25."},
			programme: "EXPLOITATION", funder: mopac, status: live},
		{in: models.FundingLineInput{Code: "ALLYSHIP-TRAINING", Kind: "contract", Budget: "25000.00", StartsOn: "2024-04-15", EndsOn: "2024-09-30",
			Title:       "Anti-racism allyship training for the London Policing Board",
			Description: "A facilitator to run a session on anti-racism allyship for members of the London Policing Board. Advertised March 2024.",
			Tender: &models.TenderInput{Reference: ptr("MOPAC-T-2024-017"), MinValue: ptr("10000.00"), MaxValue: ptr("25000.00"),
				PublishedOn: ptr("2024-03-12"), ClosesOn: ptr("2024-04-02"), ProcurementMethod: ptr("open"), MainCategory: ptr("services"),
				ContractTitle: ptr("Anti-racism allyship session for the London Policing Board"), ContractValue: ptr("18500.00"),
				ContractStartsOn: ptr("2024-04-15"), ContractEndsOn: ptr("2024-09-30")}},
			programme: "TRUST", funder: mopac, supplier: "Allyship Learning Ltd (fictional)", status: live},
		{in: models.FundingLineInput{Code: "HATE-CRIME-SUPPORT", Kind: "grant", Budget: "450000.00", StartsOn: "2023-04-01", EndsOn: "2025-03-31",
			Title:       "Hate crime support: LGBTQ+ anti-violence groups",
			Description: "City Hall funding for LGBTQ+ anti-violence groups to root out hate crime, with more recording and a push for more prosecutions."},
			programme: "VIOLENCE", funder: mopac, status: live},
		{in: models.FundingLineInput{Code: "VICTIMS-SERVICES", Kind: "grant", Budget: "750000.00", StartsOn: "2022-10-01", EndsOn: "2025-03-31",
			Title:       "Victims' services review and borough delivery",
			Description: "The biggest review of victims' services in London, with borough delivery of support for repeat victims of domestic abuse."},
			programme: "VICTIMS", funder: mopac, status: live},
		{in: models.FundingLineInput{Code: "VAWG-STRATEGY", Kind: "grant", Budget: "1200000.00", StartsOn: "2023-04-01", EndsOn: "2026-03-31",
			Title:       "Violence against women and girls: refreshed strategy",
			Description: "Work that challenges misogynistic attitudes, under the refreshed VAWG strategy."},
			programme: "VIOLENCE", funder: mopac, status: live},
		{in: models.FundingLineInput{Code: "TRUST-ACTION-PLAN", Kind: "allocation", Budget: "600000.00", StartsOn: "2023-04-01", EndsOn: "2025-03-31",
			Title:       "Trust and confidence action plan",
			Description: "Aimed at Black Londoners' trust in the Met; stop and search and use of force are its focus."},
			programme: "TRUST", funder: mopac, status: live},
		{in: models.FundingLineInput{Code: "VRU-KNIFE-CRIME-RESEARCH", Kind: "contract", Budget: "60000.00", StartsOn: "2024-01-08", EndsOn: "2024-12-20",
			Title:       "Research into the drivers of knife crime",
			Description: "A VRU-commissioned report on knife crime and the drivers of violent crime in London.",
			Tender: &models.TenderInput{Reference: ptr("VRU-T-2023-044"), MinValue: ptr("40000.00"), MaxValue: ptr("60000.00"),
				PublishedOn: ptr("2023-10-23"), ClosesOn: ptr("2023-11-30"), ProcurementMethod: ptr("restricted"), MainCategory: ptr("services"),
				ContractTitle: ptr("Research into the drivers of knife crime in London"), ContractValue: ptr("52750.00"),
				ContractStartsOn: ptr("2024-01-08"), ContractEndsOn: ptr("2024-12-20")}},
			programme: "VIOLENCE", funder: vru, supplier: "Evidence and Insight Research Ltd (fictional)", status: live},
		{in: models.FundingLineInput{Code: "VRU-YOUTH-DIVERSION", Kind: "grant", Budget: "900000.00", StartsOn: "2025-04-01", EndsOn: "2026-03-31",
			Title:       "Youth diversion in high-harm boroughs",
			Description: "Proposed VRU grants to borough partnerships for diversion of young people at risk of violence."},
			programme: "VIOLENCE", funder: vru, status: nil},
	}
	l.createLines(specs, planAwards)
}

func (l *loader) createLines(specs []lineSpec, awards []awardSpec) {
	for _, sp := range specs {
		if l.err != nil {
			return
		}
		sp.in.ProgrammeID, sp.in.FunderID = l.progs[sp.programme], l.orgs[sp.funder]
		if codes, ok := financeCodes[sp.in.Code]; ok {
			sp.in.CostCentre, sp.in.GLAccount = codes.costCentre, codes.glAccount
		}
		if sp.supplier != "" {
			sp.in.Tender.AwardedSupplierID = ptr(l.orgs[sp.supplier])
		}
		fl, err := sp.in.Validate()
		l.fail(sp.in.Code, err)
		if l.err != nil {
			return
		}
		l.fail(sp.in.Code, l.st.CreateFundingLine(l.ctx, actor, fl))
		if l.err == nil {
			l.profile(fl, awards)
		}
		for _, to := range sp.status {
			if l.err == nil {
				l.fail(sp.in.Code+" "+string(to), l.setStatus(fl.ID, to))
			}
		}
		l.lines[fl.Code] = fl.ID
	}
}

// financeCodes are each line's cost centre and general-ledger account in
// the finance system, for the journal of each payment run (fictional codes
// in its formats): MOPAC's cost centres start MO and the VRU's VRU; grants
// to external bodies post to 54100, allocations to the Met to 54300 and
// professional services to 52210.
var financeCodes = map[string]struct{ costCentre, glAccount string }{
	"DRUG-SUPPLY":                 {"MOX410", "54300"},
	"ALLYSHIP-TRAINING":           {"MOT220", "52210"},
	"HATE-CRIME-SUPPORT":          {"MOV310", "54100"},
	"VICTIMS-SERVICES":            {"MOC120", "54100"},
	"VAWG-STRATEGY":               {"MOV330", "54100"},
	"TRUST-ACTION-PLAN":           {"MOT210", "54300"},
	"VRU-KNIFE-CRIME-RESEARCH":    {"VRU520", "52210"},
	"VRU-YOUTH-DIVERSION":         {"VRU410", "54100"},
	"NEIGHBOURHOOD-WARD-OFFICERS": {"MOT230", "54300"},
	"KNIFE-CRIME-HOTSPOTS":        {"VRU430", "54100"},
	stopSearchReview:              {"MOT240", "52210"},
}

type awardSpec struct {
	line, recipient string
	in              models.AwardInput
}

// planAwards are the 2022-25 plan's awards. The drug-supply allocation is
// paid to the Met on its schedule: £750,000.00 in each of 2022-23 and
// 2023-24 and £500,000.00 in 2024-25, the whole £2,000,000.00.
var planAwards = []awardSpec{
	{"DRUG-SUPPLY", "Metropolitan Police Service", models.AwardInput{Reference: "MOPAC-DS-2022-001", Amount: "1500000.00",
		AwardedOn: "2022-05-16", StartsOn: "2022-06-01", EndsOn: "2025-03-31",
		Tranches: []models.TrancheInput{{DueOn: "2022-06-01", Amount: "500000.00"}, {DueOn: "2022-12-01", Amount: "250000.00"},
			{DueOn: "2023-06-01", Amount: "650000.00"}, {DueOn: "2024-01-15", Amount: "100000.00"}},
		Conditions:           "Quarterly returns on drug-supply disruptions and seizures; unspent funds returned at year end.",
		CrimeReductionReason: "Disrupting supply lines removes the drug markets that drive violence and the exploitation of young people.",
		Purpose:              "Dedicated resources to disrupt drug supply lines into London, including county lines."}},
	{"DRUG-SUPPLY", "Metropolitan Police Service", models.AwardInput{Reference: "MOPAC-DS-2024-002", Amount: "500000.00",
		AwardedOn: "2024-04-10", StartsOn: "2024-04-15", EndsOn: "2025-03-31",
		Conditions:           "Spent only on drug-supply enforcement in the Basic Command Units; monthly activity returns to MOPAC.",
		CrimeReductionReason: "Enforcement against dealers in every BCU reduces drug-related violence and county-lines exploitation.",
		Purpose:              "Supplementary allocation for drug-supply enforcement in the 12 Basic Command Units."}},
	{"ALLYSHIP-TRAINING", "Allyship Learning Ltd (fictional)", models.AwardInput{Reference: "MOPAC-T-2024-017-A", Amount: "18500.00",
		AwardedOn: "2024-04-12", StartsOn: "2024-04-15", EndsOn: "2024-09-30",
		Purpose: "Anti-racism allyship session for members of the London Policing Board."}},
	{"HATE-CRIME-SUPPORT", "Galop", models.AwardInput{Reference: "MOPAC-HC-2023-001", Amount: "300000.00",
		AwardedOn: "2023-04-03", StartsOn: "2023-04-01", EndsOn: "2025-03-31", TrancheCount: 8,
		Conditions:           "Six-monthly casework figures; referral pathway agreed with the Met; safeguarding policy in place.",
		CrimeReductionReason: "Supporting LGBTQ+ victims to report raises recording and prosecutions, which deters hate crime.",
		Purpose:              "Casework and advocacy for LGBTQ+ victims of hate crime; better recording and support towards prosecution."}},
	{"HATE-CRIME-SUPPORT", "Southside Youth Futures (fictional)", models.AwardInput{Reference: "MOPAC-HC-2023-002", Amount: "120000.00",
		AwardedOn: "2023-05-02", StartsOn: "2023-06-01", EndsOn: "2025-03-31", TrancheCount: 7,
		Conditions:           "Termly reports of sessions delivered and reports made; DBS checks for all staff working with young people.",
		CrimeReductionReason: "Young people who know how to report hate crime report more of it, and early challenge prevents escalation.",
		Purpose:              "Hate crime awareness and reporting with young people in Southwark."}},
	{"VICTIMS-SERVICES", "London Borough of Lambeth", models.AwardInput{Reference: "MOPAC-VS-2022-001", Amount: "250000.00",
		AwardedOn: "2022-10-03", StartsOn: "2022-10-01", EndsOn: "2025-03-31", TrancheCount: 10,
		Conditions:           "Advisers accredited to the national IDVA standard; quarterly outcomes against the victims' code.",
		CrimeReductionReason: "Independent advisers reduce repeat victimisation of domestic abuse victims, the largest share of repeat violence.",
		Purpose:              "Independent domestic violence advisers for repeat victims."}},
	{"VICTIMS-SERVICES", "Safe Homes Advocacy Network (fictional)", models.AwardInput{Reference: "MOPAC-VS-2023-002", Amount: "185000.00",
		AwardedOn: "2023-07-03", StartsOn: "2023-07-01", EndsOn: "2025-03-31", TrancheCount: 7,
		Conditions:           "Quarterly outcome returns; services follow the victims' code; data shared under the agreed protocol.",
		CrimeReductionReason: "Advocacy keeps victims engaged with the justice process, so more offenders are charged and repeat offences fall.",
		Purpose:              "Advocacy for victims of sexual violence in Newham."}},
	{"VAWG-STRATEGY", "London Borough of Hackney", models.AwardInput{Reference: "MOPAC-VAWG-2023-001", Amount: "400000.00",
		AwardedOn: "2023-04-17", StartsOn: "2023-05-01", EndsOn: "2026-03-31", TrancheCount: 12,
		Conditions:           "Delivered in at least 20 Hackney schools a year; evaluation report at the end of each academic year.",
		CrimeReductionReason: "Challenging misogynistic attitudes early prevents the violence against women and girls that grows from them.",
		Purpose:              "Schools programme challenging misogynistic attitudes."}},
	{"TRUST-ACTION-PLAN", "Metropolitan Police Service", models.AwardInput{Reference: "MOPAC-TR-2023-001", Amount: "450000.00",
		AwardedOn: "2023-04-03", StartsOn: "2023-04-01", EndsOn: "2025-03-31", TrancheCount: 4,
		Conditions:           "Community scrutiny panels meet monthly and publish their findings; quarterly reports to the Policing Board.",
		CrimeReductionReason: "Public trust makes victims and witnesses come forward, which is how crime is solved and prevented.",
		Purpose:              "Community scrutiny of stop and search and use of force."}},
	{"VRU-KNIFE-CRIME-RESEARCH", "Evidence and Insight Research Ltd (fictional)", models.AwardInput{Reference: "VRU-T-2023-044-A", Amount: "52750.00",
		AwardedOn: "2023-12-18", StartsOn: "2024-01-08", EndsOn: "2024-12-20",
		Tranches: []models.TrancheInput{{DueOn: "2024-03-29", Amount: "15825.00"}, {DueOn: "2024-07-31", Amount: "15825.00"}, {DueOn: "2024-12-20", Amount: "21100.00"}},
		Purpose:  "Report on knife crime and the drivers of violent crime."}},
}

func (l *loader) awards() { l.createAwards(planAwards) }

func (l *loader) createAwards(specs []awardSpec) {
	for _, sp := range specs {
		if l.err != nil {
			return
		}
		sp.in.RecipientID = l.orgs[sp.recipient]
		a, err := sp.in.Validate(l.lines[sp.line])
		l.fail(sp.in.Reference, err)
		if l.err == nil {
			l.fail(sp.in.Reference, l.award(a))
		}
	}
}

// officeHolderExpenses are the Deputy Mayor's expenses claims for June 2024,
// which the publishing pack lists (Schedule paragraph 1(d)); the office
// holder is fictional.
func (l *loader) officeHolderExpenses() {
	if l.err != nil {
		return
	}
	maker, checker, _ := l.people()
	es, err := l.st.ImportOfficeHolderExpenses(l.ctx, maker, strings.NewReader(`office_holder,office,incurred_on,category,description,amount
Alex Morgan (fictional),Deputy Mayor for Policing and Crime,2024-06-04,travel,Rail fare to the national PCC conference,86.40
Alex Morgan (fictional),Deputy Mayor for Policing and Crime,2024-06-18,subsistence,Working dinner after the London Policing Board,31.75
Alex Morgan (fictional),Deputy Mayor for Policing and Crime,2024-06-26,travel,Taxi to a late community meeting in Croydon,24.60
`))
	// A second officer approves each before it is published.
	for _, e := range es {
		if err == nil {
			_, err = l.st.DecideOfficeHolderExpense(l.ctx, checker, e.ID, models.DecisionApproved, "")
		}
	}
	l.fail("office holders' expenses", err)
}
