package store

// contractColumns are a contract line's procurement columns, written with
// the rest of the line.
var contractColumns = []string{"procurement_method", "direct_award_reason", "framework_name", "contract_title", "tender_published_on",
	"contract_value", "contract_starts_on", "contract_ends_on", "main_procurement_category"}
