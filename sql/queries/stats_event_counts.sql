-- /metrics: totals from the event history, across every server: claims
-- granted and leases that ran out (found by the reaper or by a new claim).
select count(*) filter (where kind = 'claimed') as claims,
       count(*) filter (where kind = 'lease_expired') as lease_expirations
from events
