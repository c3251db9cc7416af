package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"granttrack/models"
)

func TestPublisherSettingsAreAuditedAndValidated(t *testing.T) {
	st := FreshStore(t)
	ctx := context.Background()
	if p, err := st.PublisherSettings(ctx); err != nil || p != (models.Publisher{}) {
		t.Fatalf("a new database's publisher settings: %+v (%v), want all empty", p, err)
	}
	// Every malformed setting is named, and nothing is stored.
	_, err := st.UpdatePublisherSettings(ctx, actor, models.Publisher{Name: "MOPAC", URI: "london.gov.uk", OrgID: "XX-NOPE-1",
		ThreeSixtyGivingPrefix: "mopac", OCIDPrefix: "ocds-TOOLONG1", Licence: "OGL"})
	var me *models.Error
	if models.ErrorCode(err) != models.EINVALID || !errors.As(err, &me) || len(me.Fields) != 5 {
		t.Fatalf("malformed settings: %v, want EINVALID naming uri, org_id, three_sixty_giving_prefix, ocid_prefix, licence", err)
	}
	for i, f := range []string{"licence", "ocid_prefix", "org_id", "three_sixty_giving_prefix", "uri"} {
		if me.Fields[i].Field != f {
			t.Errorf("field %d is %q, want %q", i, me.Fields[i].Field, f)
		}
	}
	if p, err := st.PublisherSettings(ctx); err != nil || p != (models.Publisher{}) {
		t.Fatalf("after a refused change the settings are %+v (%v), want all empty", p, err)
	}
	// The database holds the prefixes' formats too.
	if err := raw(st, "UPDATE publisher_settings SET ocid_prefix = 'ocds-xyz'"); err == nil || !strings.Contains(err.Error(), "publisher_settings_ocid_prefix") {
		t.Fatalf("raw SQL stored a malformed ocid prefix: %v", err)
	}
	if err := raw(st, "DELETE FROM publisher_settings"); err == nil {
		t.Fatal("the application deleted the publisher settings")
	}
	want := models.Publisher{Name: "Mayor's Office for Policing and Crime", URI: "https://www.london.gov.uk/mopac", OrgID: "GB-GOR-PC000001",
		ThreeSixtyGivingPrefix: "360G-mopac", OCIDPrefix: "ocds-abc123", Licence: "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"}
	in := want
	in.Name = "  " + in.Name + " "
	if got, err := st.UpdatePublisherSettings(ctx, actor, in); err != nil || got != want {
		t.Fatalf("saved %+v (%v), want %+v", got, err, want)
	}
	var n int
	if err := st.DB().NewRaw(`SELECT count(*) FROM audit_events WHERE action = 'publisher_settings.update'
		AND before->>'ocid_prefix' = '' AND after->>'ocid_prefix' = 'ocds-abc123' AND after->>'org_id' = 'GB-GOR-PC000001'`).Scan(ctx, &n); err != nil || n != 1 {
		t.Fatalf("%d audit events of the change with before and after (%v), want 1", n, err)
	}
	// The environment stands in only for what is left empty.
	partial := want
	partial.OCIDPrefix, partial.Name = "", ""
	if _, err := st.UpdatePublisherSettings(ctx, actor, partial); err != nil {
		t.Fatal(err)
	}
	eff, err := st.EffectivePublisher(ctx, models.Publisher{Name: "From the environment", OCIDPrefix: "ocds-env123", Licence: "https://env.example/licence"})
	if err != nil || eff.Name != "From the environment" || eff.OCIDPrefix != "ocds-env123" || eff.Licence != want.Licence || eff.URI != want.URI {
		t.Fatalf("effective publisher %+v (%v): stored settings first, the environment for empty ones", eff, err)
	}
}
