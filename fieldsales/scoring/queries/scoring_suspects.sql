-- Unverified visits and flagged pings in [:a, :b), one row each. The metres are floored the
-- same on both databases: CAST rounds on PostgreSQL and truncates on SQLite, so a cast that
-- came out above the (non-negative) distance is taken one down.
INSERT INTO scoring_suspects (rep_id, kind, record_id, occurred_at, detail)
SELECT vi.rep_id, 'unverified_visit', vi.id, vi.check_in_at,
       CASE WHEN vi.distance_m IS NULL THEN 'Check-in position could not be verified.'
            ELSE 'Check-in '
                 || CAST(CAST(vi.distance_m AS BIGINT)
                         - CASE WHEN CAST(vi.distance_m AS BIGINT) > vi.distance_m THEN 1 ELSE 0 END
                         AS VARCHAR(20))
                 || ' m from the customer.' END
FROM visits vi
WHERE NOT vi.verified AND vi.deleted_at IS NULL
  AND vi.check_in_at >= :a AND vi.check_in_at < :b
UNION ALL
SELECT lp.rep_id, 'flagged_ping', lp.id, lp.recorded_at,
       'Ping flagged: ' || COALESCE(lp.flags, '') || '.'
FROM location_pings lp
WHERE lp.flagged AND lp.recorded_at >= :a AND lp.recorded_at < :b
