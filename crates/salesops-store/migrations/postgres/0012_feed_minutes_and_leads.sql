-- The change feed also carries an activity's lead and duration, before and
-- after, so the analytic index can answer the KPIs that read them (selling
-- time, proposal activities per lead) without reading activities again.

ALTER TABLE analytics_feed
    ADD COLUMN old_lead_id UUID,
    ADD COLUMN old_minutes INTEGER,
    ADD COLUMN new_lead_id UUID,
    ADD COLUMN new_minutes INTEGER;

CREATE OR REPLACE FUNCTION analytics_feed_activity() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.done THEN
            INSERT INTO analytics_feed (org_id, entity, entity_id,
                new_user_id, new_type_id, new_outcome_id, new_at, new_lead_id, new_minutes)
            VALUES (NEW.org_id, 'activity', NEW.id,
                NEW.user_id, NEW.type_id, NEW.outcome_id, NEW.happened_at, NEW.lead_id, NEW.duration_minutes);
        END IF;
    ELSIF TG_OP = 'UPDATE' THEN
        IF (OLD.done OR NEW.done)
            AND (OLD.done, OLD.user_id, OLD.type_id, OLD.outcome_id, OLD.happened_at, OLD.lead_id, OLD.duration_minutes)
                IS DISTINCT FROM
                (NEW.done, NEW.user_id, NEW.type_id, NEW.outcome_id, NEW.happened_at, NEW.lead_id, NEW.duration_minutes) THEN
            INSERT INTO analytics_feed (org_id, entity, entity_id,
                old_user_id, old_type_id, old_outcome_id, old_at, old_lead_id, old_minutes,
                new_user_id, new_type_id, new_outcome_id, new_at, new_lead_id, new_minutes)
            VALUES (NEW.org_id, 'activity', NEW.id,
                CASE WHEN OLD.done THEN OLD.user_id END, CASE WHEN OLD.done THEN OLD.type_id END,
                CASE WHEN OLD.done THEN OLD.outcome_id END, CASE WHEN OLD.done THEN OLD.happened_at END,
                CASE WHEN OLD.done THEN OLD.lead_id END, CASE WHEN OLD.done THEN OLD.duration_minutes END,
                CASE WHEN NEW.done THEN NEW.user_id END, CASE WHEN NEW.done THEN NEW.type_id END,
                CASE WHEN NEW.done THEN NEW.outcome_id END, CASE WHEN NEW.done THEN NEW.happened_at END,
                CASE WHEN NEW.done THEN NEW.lead_id END, CASE WHEN NEW.done THEN NEW.duration_minutes END);
        END IF;
    ELSIF OLD.done THEN
        INSERT INTO analytics_feed (org_id, entity, entity_id,
            old_user_id, old_type_id, old_outcome_id, old_at, old_lead_id, old_minutes)
        VALUES (OLD.org_id, 'activity', OLD.id,
            OLD.user_id, OLD.type_id, OLD.outcome_id, OLD.happened_at, OLD.lead_id, OLD.duration_minutes);
    END IF;
    RETURN NULL;
END
$$;
