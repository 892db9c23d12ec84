package metering

// applyIdlePolicy revokes, once per UTC day, the named and document CALs
// idle for the licence's revoke_idle_days; each stays occupied until last
// use + quarantine.
func (e *Engine) applyIdlePolicy(t int64) {
	days := int64(e.cfg.License.Policy.RevokeIdleDays)
	day := dayOf(t)
	if days == 0 || day == e.policyDay {
		return
	}
	e.policyDay = day
	now := int64(day) * dayMS
	for _, p := range e.pools {
		for i := range p.holders.holders {
			h := &p.holders.holders[i]
			if h.revoked || (h.kind != kindNamed && h.kind != kindDocument) || now-h.lastUsed < days*dayMS {
				continue
			}
			p.holders.revoke(h, now)
			q, _ := p.quarantine(h.kind).of(e.ExeVersions.Name(h.exeVersion))
			until := h.lastUsed + q.Milliseconds()
			if until > now {
				p.inQuarantine = append(p.inQuarantine, quarantinedCAL{h.kind, h.document, until})
				p.quarantined[quarantineKey{h.kind, h.user, h.document}] = until
			}
		}
	}
}
