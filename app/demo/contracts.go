package demo

import (
	"time"

	"github.com/shopspring/decimal"

	"granttrack/models"
)

// stopSearchReview is a contract whose value lies above its tender's band,
// by an exception one finance officer proposed with its reason and the
// second approved under the scheme of delegation.
const (
	stopSearchReview      = "STOP-SEARCH-REVIEW"
	stopSearchReviewValue = "32500.00"
	// StopSearchExceptionReason is why the review may cost more than its band.
	StopSearchExceptionReason = "The London Policing Board widened the review to cover use of force as well as stop and search " +
		"(minutes of 12 June 2024); the winning bidder priced the extra analysis at £7,500.00 and re-tendering would miss the October board."
)

var stopSearchAwards = []awardSpec{
	{stopSearchReview, "Evidence and Insight Research Ltd (fictional)", models.AwardInput{Reference: "MOPAC-T-2024-031-A", Amount: stopSearchReviewValue,
		AwardedOn: "2024-06-24", StartsOn: "2024-07-01", EndsOn: "2025-01-31",
		Tranches: []models.TrancheInput{{DueOn: "2024-10-31", Amount: "16250.00"}, {DueOn: "2025-01-31", Amount: "16250.00"}},
		Purpose:  "Independent review of stop and search and use of force data for the London Policing Board."}},
}

// contractException makes the stop and search review: tendered at
// £15,000–£25,000, contracted at £32,500.00 after an approved band
// exception, and awarded to the tender's winner.
func (l *loader) contractException() {
	l.createLines([]lineSpec{{in: models.FundingLineInput{Code: stopSearchReview, Kind: "contract", Budget: stopSearchReviewValue,
		StartsOn: "2024-06-01", EndsOn: "2025-03-31", Title: "Independent review of stop and search data",
		Description: "An independent review of stop and search and use of force data, for the London Policing Board's scrutiny of the Met.",
		Tender: &models.TenderInput{Reference: ptr("MOPAC-T-2024-031"), MinValue: ptr("15000.00"), MaxValue: ptr("25000.00"),
			PublishedOn: ptr("2024-04-22"), ClosesOn: ptr("2024-05-17"), ProcurementMethod: ptr("open"), MainCategory: ptr("services"),
			ContractTitle: ptr("Independent review of stop and search and use of force data")}},
		programme: "TRUST", funder: mopac, supplier: "Evidence and Insight Research Ltd (fictional)", status: live}}, stopSearchAwards)
	maker, checker, _ := l.people()
	if l.err != nil {
		return
	}
	lineID := l.lines[stopSearchReview]
	x, err := models.BandExceptionInput{ContractValue: stopSearchReviewValue, Reason: StopSearchExceptionReason}.Validate(lineID)
	l.fail("band exception", err)
	if l.err == nil {
		l.fail("band exception", l.st.ProposeBandException(l.ctx, maker, x))
	}
	if l.err == nil {
		_, err = l.st.DecideBandException(l.ctx, checker, x.ID, models.DecisionApproved, "")
		l.fail("band exception approval", err)
	}
	if l.err != nil {
		return
	}
	fl, err := l.st.FundingLine(l.ctx, lineID)
	l.fail(stopSearchReview, err)
	if l.err != nil {
		return
	}
	value := decimal.RequireFromString(stopSearchReviewValue)
	starts, ends := time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 1, 31, 0, 0, 0, 0, time.UTC)
	fl.ContractValue, fl.ContractStartsOn, fl.ContractEndsOn = &value, &starts, &ends
	l.fail(stopSearchReview+" contract", l.st.UpdateFundingLine(l.ctx, maker, lineID, fl))
	l.createAwards(stopSearchAwards)
}
