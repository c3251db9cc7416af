package demo_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"granttrack/app/demo"
	"granttrack/app/pgtest"
	"granttrack/app/report"
	"granttrack/app/store"
	"granttrack/models"
)

// TestCountyLinesCostPerOutcome reads the demo's figures. The drug-supply
// line spent £500,000.00 in 2024-25 and £2,000,000.00 from the indicator's
// baseline (0 closures, 2022-04-01) to 31 March 2025. In 2024-25 the
// reading for 2023-24 (390) opens the year and the one to 31 March 2025
// (575) closes it: £500,000.00 ÷ 185 = £2,702.70 a closure (the old figure,
// £500,000.00 ÷ 575 = £869.57, set one year's spend against three years'
// change). Life to date: £2,000,000.00 ÷ 575 = £3,478.26. Trust in the
// Met has no reading inside 2025-26, so its cost there is not computable.
func TestCountyLinesCostPerOutcome(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, pgtest.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := demo.Load(ctx, st); err != nil {
		t.Fatal(err)
	}
	outcome := func(fy models.FinancialYear, name string) report.Outcome {
		t.Helper()
		v, err := report.ValueForMoneyReport(ctx, st, report.Query{Period: models.PeriodOf(fy, 0), AsOf: time.Date(2026, 11, 15, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range v.Outcomes {
			if strings.HasPrefix(o.Indicator.Name, name) {
				return o
			}
		}
		t.Fatalf("%s: no outcome %q", fy, name)
		return report.Outcome{}
	}
	o := outcome(2024, "County lines closed")
	c := o.Cost
	if c.Spend.StringFixed(2) != "500000.00" || c.Opening == nil || !c.Opening.Value.Equal(decimal.RequireFromString("390")) ||
		c.Closing == nil || !c.Closing.Value.Equal(decimal.RequireFromString("575")) || c.Cost == nil || c.Cost.StringFixed(2) != "2702.70" {
		t.Fatalf("2024-25: %+v", c)
	}
	d := o.ToDate
	if d.Spend.StringFixed(2) != "2000000.00" || d.Cost == nil || d.Cost.StringFixed(2) != "3478.26" || !d.Opening.Baseline {
		t.Fatalf("life to date: %+v", d)
	}
	trust := outcome(2025, "Londoners who think the Met does a good job")
	if trust.Cost.Cost != nil || !strings.Contains(trust.Cost.Reason, "no reading inside 2025-26") || !trust.Cost.Spend.IsPositive() {
		t.Fatalf("trust in 2025-26: %+v", trust.Cost)
	}
}
