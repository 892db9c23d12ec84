package metering

// Prices is the licence file's [prices] table: what each licence type
// costs, so that `qvmeter report advice` can weigh one mix of licences
// against another. Prices are plain numbers in whatever currency the buyer
// uses, all for the same Period; each is optional, and advice that needs a
// missing price is not given (the report says which price it lacks).
//
//	[prices]
//	period = "year"                 # "month" or "year": what every price below is for
//	named_cal = 350                 # one Named User CAL
//	document_cal = 70               # one Document CAL
//	session_cal = 1200              # one Session CAL
//	usage_cal = 20                  # one Usage CAL
//	professional = 1000             # one Professional user
//	analyzer = 400                  # one Analyzer user
//	capacity_minutes_pack = 600     # one pack of Analyzer Capacity minutes …
//	capacity_pack_minutes = 1000    # … of this many minutes per UTC month
//
// Capacity is bought in packs of capacity_pack_minutes minutes per month;
// the price of a minute per month is capacity_minutes_pack divided by
// capacity_pack_minutes (and by 12 when the period is a year).
type Prices struct {
	Period              string   `toml:"period" json:"period,omitempty"`
	NamedCAL            *float64 `toml:"named_cal" json:"named_cal,omitempty"`
	DocumentCAL         *float64 `toml:"document_cal" json:"document_cal,omitempty"`
	SessionCAL          *float64 `toml:"session_cal" json:"session_cal,omitempty"`
	UsageCAL            *float64 `toml:"usage_cal" json:"usage_cal,omitempty"`
	Professional        *float64 `toml:"professional" json:"professional,omitempty"`
	Analyzer            *float64 `toml:"analyzer" json:"analyzer,omitempty"`
	CapacityMinutesPack *float64 `toml:"capacity_minutes_pack" json:"capacity_minutes_pack,omitempty"`
	CapacityPackMinutes int64    `toml:"capacity_pack_minutes" json:"capacity_pack_minutes,omitempty"`
}

// Price periods.
const (
	PeriodMonth = "month"
	PeriodYear  = "year"
)

// validate checks the prices: a period when any price is given, no
// negative price, and a pack size with a pack price (and none without).
func (p *Prices) validate(src licenseSource) error {
	if p == nil {
		return nil
	}
	at := func(key string) []string { return []string{"prices", key} }
	for _, price := range p.named() {
		if price.value != nil && *price.value < 0 {
			return src.errorAt(at(price.key), "must not be negative, got %g", *price.value)
		}
	}
	switch p.Period {
	case PeriodMonth, PeriodYear:
	case "":
		return src.errorAt(at("period"), "say what the prices are for: %q or %q", PeriodMonth, PeriodYear)
	default:
		return src.errorAt(at("period"), "want %q or %q, got %q", PeriodMonth, PeriodYear, p.Period)
	}
	switch {
	case p.CapacityPackMinutes < 0:
		return src.errorAt(at("capacity_pack_minutes"), "must be positive, got %d", p.CapacityPackMinutes)
	case p.CapacityMinutesPack != nil && p.CapacityPackMinutes == 0:
		return src.errorAt(at("capacity_minutes_pack"), "a pack price needs capacity_pack_minutes, the minutes per month a pack holds")
	case p.CapacityMinutesPack == nil && p.CapacityPackMinutes > 0:
		return src.errorAt(at("capacity_pack_minutes"), "a pack size needs capacity_minutes_pack, the price of a pack")
	}
	return nil
}

type namedPrice struct {
	key   string
	value *float64
}

// named lists the prices by their keys in the file.
func (p *Prices) named() []namedPrice {
	return []namedPrice{{PriceNamedCAL, p.NamedCAL}, {PriceDocumentCAL, p.DocumentCAL}, {PriceSessionCAL, p.SessionCAL},
		{PriceUsageCAL, p.UsageCAL}, {PriceProfessional, p.Professional}, {PriceAnalyzer, p.Analyzer},
		{PriceCapacityMinutesPack, p.CapacityMinutesPack}}
}

// Price keys of the [prices] table, for Monthly.
const (
	PriceNamedCAL            = "named_cal"
	PriceDocumentCAL         = "document_cal"
	PriceSessionCAL          = "session_cal"
	PriceUsageCAL            = "usage_cal"
	PriceProfessional        = "professional"
	PriceAnalyzer            = "analyzer"
	PriceCapacityMinutesPack = "capacity_minutes_pack"
)

// Monthly returns the price of key (one of the Price* keys) per month: the
// price itself for a monthly period, a twelfth of it for a yearly one; ok is
// false when p is nil or the price is not given.
func (p *Prices) Monthly(key string) (perMonth float64, ok bool) {
	if p == nil {
		return 0, false
	}
	for _, price := range p.named() {
		if price.key == key && price.value != nil {
			v := *price.value
			if p.Period == PeriodYear {
				v /= 12
			}
			return v, true
		}
	}
	return 0, false
}

// MinuteMonthly returns the price per month of one Analyzer Capacity
// minute of the monthly budget: a pack's monthly price over its minutes.
func (p *Prices) MinuteMonthly() (float64, bool) {
	pack, ok := p.Monthly(PriceCapacityMinutesPack)
	if !ok {
		return 0, false
	}
	return pack / float64(p.CapacityPackMinutes), true
}
