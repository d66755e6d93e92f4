package portal

import (
	"fmt"
	"html/template"
	"strings"
)

// Chart geometry, in SVG user units. The chart is drawn for a phone's width (about 360 CSS pixels): the
// labels sit above the bars, never beside them, so nothing is squeezed when the screen is narrow.
const (
	chartWidth  = 400
	barLeft     = 4
	barSpan     = 236 // the longest bar
	valueLeft   = barLeft + barSpan + 6
	rowHeight   = 74
	legendSpace = 34
)

// Colours with at least 4.5:1 contrast against white where they carry text or meaning.
const (
	inkColour     = "#1a1a1a"
	budgetFill    = "#dbe6f1"
	budgetStroke  = "#1d4e89"
	paidFill      = "#1d4e89"
	overpaidColor = "#a4262c"
)

// budgetChart draws budget (allocated) against paid per category as an accessible SVG: role="img" with a
// title and a description that states every figure, so a screen reader reads the chart as text; the
// table below the chart repeats the figures for everyone.
func budgetChart(f Finances) template.HTML {
	if len(f.Categories) == 0 {
		return ""
	}
	var maxFen int64 = 1
	for _, c := range f.Categories {
		maxFen = max(maxFen, c.Allocated.Fen, c.Paid.Fen)
	}
	height := legendSpace + rowHeight*len(f.Categories) + 4
	var desc []string
	for _, c := range f.Categories {
		desc = append(desc, fmt.Sprintf("%s：预算 %s，已支付 %s", c.CategoryName, c.Allocated.Text, c.Paid.Text))
	}
	id := "chart-" + f.CommunityID + "-" + fmt.Sprint(f.FiscalYear)
	var b strings.Builder
	esc := template.HTMLEscapeString
	fmt.Fprintf(&b, `<svg class="budget-chart" viewBox="0 0 %d %d" width="100%%" role="img" aria-labelledby="%s-t %s-d" xmlns="http://www.w3.org/2000/svg" font-family="system-ui, sans-serif" font-size="16">`,
		chartWidth, height, esc(id), esc(id))
	fmt.Fprintf(&b, `<title id="%s-t">%d年度各类经费预算与已支付金额</title>`, esc(id), f.FiscalYear)
	fmt.Fprintf(&b, `<desc id="%s-d">%s。</desc>`, esc(id), esc(strings.Join(desc, "；")))
	// Legend.
	fmt.Fprintf(&b, `<rect x="%d" y="6" width="16" height="14" fill="%s" stroke="%s" stroke-width="1.5"/>`, barLeft, budgetFill, budgetStroke)
	fmt.Fprintf(&b, `<text x="%d" y="18" fill="%s">预算（拨款）</text>`, barLeft+22, inkColour)
	fmt.Fprintf(&b, `<rect x="%d" y="6" width="16" height="14" fill="%s"/>`, barLeft+150, paidFill)
	fmt.Fprintf(&b, `<text x="%d" y="18" fill="%s">已支付</text>`, barLeft+172, inkColour)
	for i, c := range f.Categories {
		y := legendSpace + i*rowHeight
		fill, note := paidFill, ""
		if c.Paid.Fen > c.Allocated.Fen && c.Allocated.Fen > 0 {
			fill, note = overpaidColor, "（支出超出预算）"
		}
		fmt.Fprintf(&b, `<g><text x="%d" y="%d" fill="%s" font-weight="600">%s%s</text>`, barLeft, y+16, inkColour, esc(c.CategoryName), note)
		bw := barWidth(c.Allocated.Fen, maxFen)
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="18" fill="%s" stroke="%s" stroke-width="1.5"/>`, barLeft, y+24, bw, budgetFill, budgetStroke)
		fmt.Fprintf(&b, `<text x="%d" y="%d" fill="%s">%s</text>`, valueLeft, y+38, inkColour, esc(c.Allocated.Text))
		pw := barWidth(c.Paid.Fen, maxFen)
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="18" fill="%s"/>`, barLeft, y+46, pw, fill)
		fmt.Fprintf(&b, `<text x="%d" y="%d" fill="%s">%s</text></g>`, valueLeft, y+60, inkColour, esc(c.Paid.Text))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // every text in it is escaped above
}

// barWidth scales fen to the bar span; a non-zero amount is at least 2 units wide so it stays visible.
func barWidth(fen, maxFen int64) int {
	if fen <= 0 {
		return 0
	}
	w := int(fen * barSpan / maxFen)
	return max(w, 2)
}

// answerRow is the height of one answer's bar in a survey chart.
const answerRow = 30

// surveyChart draws a survey question's answers as an accessible SVG of horizontal bars (one per answer,
// scaled to the share of answers), with a title and a description stating every figure.
func surveyChart(id string, q QuestionInfo) template.HTML {
	if len(q.Answers) == 0 {
		return ""
	}
	esc := template.HTMLEscapeString
	var desc []string
	for _, a := range q.Answers {
		desc = append(desc, fmt.Sprintf("%s %d票（%d%%）", a.Label, a.Count, a.Percent))
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="survey-chart" viewBox="0 0 %d %d" width="100%%" role="img" aria-labelledby="%s-t %s-d" xmlns="http://www.w3.org/2000/svg" font-family="system-ui, sans-serif" font-size="16">`,
		chartWidth, answerRow*len(q.Answers)+4, esc(id), esc(id))
	fmt.Fprintf(&b, `<title id="%s-t">%s</title><desc id="%s-d">%s。</desc>`, esc(id), esc(q.Text), esc(id), esc(strings.Join(desc, "；")))
	const labelSpace = 84
	for i, a := range q.Answers {
		y := i * answerRow
		fmt.Fprintf(&b, `<text x="%d" y="%d" fill="%s">%s</text>`, barLeft, y+20, inkColour, esc(a.Label))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="18" fill="%s"/>`, labelSpace, y+6, barWidth(int64(a.Percent), 100)*(barSpan-labelSpace)/barSpan, paidFill)
		fmt.Fprintf(&b, `<text x="%d" y="%d" fill="%s">%d（%d%%）</text>`, valueLeft, y+20, inkColour, a.Count, a.Percent)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // every text in it is escaped above
}
