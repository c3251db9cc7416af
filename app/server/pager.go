package server

import (
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/shopspring/decimal"

	"granttrack/app/store"
	"granttrack/models"
)

// pager is where a page sits in its list, as every list shows it
// ("Entries 51–100 of 131"), with the whole filtered list's money (not the
// page's) and the links to the pages either side, "" at either end. The
// "pager" template draws it.
type pager struct {
	Noun        string
	First, Last int // positions of the page's first and last items, from 1
	Total       int
	Amount      *Money
	Prev, Next  string
	FirstPage   string // the list's first page, for a page past its end
}

// Past says the page starts after the list's end (a stale or typed link).
func (p pager) Past() bool { return p.Total > 0 && p.First > p.Total }

// at is the pager of a list drawn in answer to a form posted to another
// path (a refused decision): its links lead to the list's own path.
func (p pager) at(c *fiber.Ctx, path string) pager {
	if c.Path() == path {
		return p
	}
	for _, l := range []*string{&p.Prev, &p.Next, &p.FirstPage} {
		if *l != "" {
			*l = path + strings.TrimPrefix(*l, c.Path())
		}
	}
	return p
}

// numberedPager is the pager of an offset-paged list (a small one): page
// pg of total items, shown items on this page.
func numberedPager(c *fiber.Ctx, noun string, pg store.Page, shown, total int) pager {
	n := max(pg.Number, 1)
	p := pager{Noun: noun, Total: total, First: (n-1)*pg.PerPage + 1, FirstPage: pageLink(c, 1, "", "")}
	p.Last = p.First + shown - 1
	if n > 1 {
		p.Prev = pageLink(c, min(n-1, max((total+pg.PerPage-1)/pg.PerPage, 1)), "", "")
	}
	if p.Last < total && shown > 0 {
		p.Next = pageLink(c, n+1, "", "")
	}
	return p
}

// ledgerPager is the pager of the keyset-paged ledger.
func ledgerPager(c *fiber.Ctx, pg store.Page, l *store.SpendList) pager {
	var prev, next string
	if l.Prev != nil {
		prev = l.Prev.String()
	}
	if l.Next != nil {
		next = l.Next.String()
	}
	return keysetPager(c, "entries", pg, len(l.Entries), l.Count, moneyOf(l.Amount), prev, next)
}

// auditPager is the pager of the keyset-paged audit trail.
func auditPager(c *fiber.Ctx, pg store.Page, l *store.AuditList) pager {
	cursor := func(seq int64) string {
		if seq == 0 {
			return ""
		}
		return strconv.FormatInt(seq, 10)
	}
	return keysetPager(c, "events", pg, len(l.Events), l.Count, nil, cursor(l.Prev), cursor(l.Next))
}

// keysetPager is the pager of a keyset-paged list: the links carry the
// cursors either side ("" at either end) and the page number travels with
// them only to number the rows.
func keysetPager(c *fiber.Ctx, noun string, pg store.Page, shown, total int, amount *Money, prev, next string) pager {
	n := max(pg.Number, 1)
	p := pager{Noun: noun, Total: total, Amount: amount, First: (n-1)*pg.PerPage + 1, FirstPage: pageLink(c, 1, "", "")}
	p.Last = p.First + shown - 1
	if prev != "" {
		p.Prev = pageLink(c, n-1, "before", prev)
		if n-1 <= 1 {
			p.Prev = pageLink(c, 1, "", "")
		}
	}
	if next != "" {
		p.Next = pageLink(c, n+1, "after", next)
	}
	return p
}

// webPageOf reads a web list's page and per_page; a bad one is a message
// by field, and the list's first page is shown instead.
func webPageOf(c *fiber.Ctx) (store.Page, map[string]string) {
	var p models.Problems
	pg := pageOf(c, &p)
	if len(p) == 0 {
		return pg, nil
	}
	errs := map[string]string{}
	for _, f := range p {
		errs[f.Field] = f.Message
	}
	return store.Page{Number: 1, PerPage: 50}, errs
}

// nextLink is the link to the page after page pg of an offset-paged list,
// "" on its last page.
func nextLink(c *fiber.Ctx, pg store.Page, shown, total int) string {
	return numberedPager(c, "", pg, shown, total).Next
}

// pageLink is the request's own path and query with page n (and a
// cursor, when key is set) in place of its paging.
func pageLink(c *fiber.Ctx, n int, key, cursor string) string {
	args := fiber.AcquireArgs()
	defer fiber.ReleaseArgs(args)
	c.Request().URI().QueryArgs().CopyTo(args)
	for _, k := range []string{"page", "after", "before"} {
		args.Del(k)
	}
	if n > 1 {
		args.Set("page", strconv.Itoa(n))
		if key != "" {
			args.Set(key, cursor)
		}
	}
	if args.Len() == 0 {
		return c.Path()
	}
	return c.Path() + "?" + args.String()
}

// querySearch reads a search box's text; text that could not have been
// typed, or longer than store.MaxSearch, is a problem on the field.
func querySearch(c *fiber.Ctx, name string, p *models.Problems) string {
	v := c.Query(name)
	if msg := store.SearchProblem(v); msg != "" {
		p.Add(name, "%s", msg)
		return ""
	}
	return v
}

// moneyOf is an amount as the pages show it, by reference for optional
// figures.
func moneyOf(d decimal.Decimal) *Money {
	m := money(d)
	return &m
}
