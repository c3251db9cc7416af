package models

import (
	"errors"
	"strings"
	"testing"
)

func TestOrganisationGSSCode(t *testing.T) {
	ptr := func(s string) *string { return &s }
	o, err := OrganisationInput{Name: "London Borough of Lambeth", GSSCode: ptr(" e09000022 "), IsRecipient: true}.Validate()
	if err != nil || o.GSSCode == nil || *o.GSSCode != "E09000022" {
		t.Fatalf("a GSS code is kept in capitals: %v %v", o.GSSCode, err)
	}
	if o, err := (OrganisationInput{Name: "Galop", GSSCode: ptr(""), IsRecipient: true}).Validate(); err != nil || o.GSSCode != nil {
		t.Fatalf("an empty GSS code is none: %v %v", o.GSSCode, err)
	}
	for _, bad := range []string{"Lambeth", "E0900002", "X09000022", "E09-00022"} {
		_, err := OrganisationInput{Name: "X", GSSCode: ptr(bad), IsRecipient: true}.Validate()
		var me *Error
		if !errors.As(err, &me) || len(me.Fields) != 1 || !strings.Contains(me.Fields[0].Message, "GSS code") {
			t.Errorf("%q: %v, want a GSS code error", bad, err)
		}
	}
}

func TestAwardConditionsAreOptional(t *testing.T) {
	in := AwardInput{RecipientID: 1, Reference: "R-1", Amount: "100.00", AwardedOn: "2024-04-01", StartsOn: "2024-04-01", EndsOn: "2024-06-30"}
	a, err := in.Validate(1)
	if err != nil || a.Conditions != nil || a.CrimeReductionReason != nil {
		t.Fatalf("without them: %+v %v", a, err)
	}
	in.Conditions, in.CrimeReductionReason = "  Quarterly returns ", strings.Repeat("x", 4001)
	_, err = in.Validate(1)
	var me *Error
	if !errors.As(err, &me) || len(me.Fields) != 1 || me.Fields[0].Field != "crime_reduction_reason" {
		t.Fatalf("an over-long reason should be refused: %v", err)
	}
}
