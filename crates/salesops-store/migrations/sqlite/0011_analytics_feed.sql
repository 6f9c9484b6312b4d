-- The change feed of the analytic index: every change to an activity, a
-- lead or a lead's stage history, written by triggers in the transaction
-- that makes the change, so no write path can forget it. Each application
-- instance reads the feed after its position and applies the changes to
-- its in-memory index. An activity row carries what the index counted
-- before and counts after (a done activity's user, type, outcome and time;
-- NULL when it is not counted), so the index never has to remember
-- individual activities; a lead or stage row names the lead to read again.
-- A 'settings' row says that the people, teams, activity types, pipelines,
-- rates or the organisation itself changed (the index caches them).

CREATE TABLE analytics_feed (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id BLOB NOT NULL,
    entity TEXT NOT NULL CHECK (entity IN ('activity', 'lead', 'stage', 'settings')),
    entity_id BLOB NOT NULL,
    old_user_id BLOB,
    old_type_id BLOB,
    old_outcome_id BLOB,
    old_at TEXT,
    new_user_id BLOB,
    new_type_id BLOB,
    new_outcome_id BLOB,
    new_at TEXT,
    written_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TRIGGER analytics_feed_activity_insert AFTER INSERT ON activities
WHEN NEW.done
BEGIN
    INSERT INTO analytics_feed (org_id, entity, entity_id, new_user_id, new_type_id, new_outcome_id, new_at)
    VALUES (NEW.org_id, 'activity', NEW.id, NEW.user_id, NEW.type_id, NEW.outcome_id, NEW.happened_at);
END;

CREATE TRIGGER analytics_feed_activity_update AFTER UPDATE ON activities
WHEN (OLD.done OR NEW.done)
    AND (OLD.done IS NOT NEW.done OR OLD.user_id IS NOT NEW.user_id OR OLD.type_id IS NOT NEW.type_id
         OR OLD.outcome_id IS NOT NEW.outcome_id OR OLD.happened_at IS NOT NEW.happened_at)
BEGIN
    INSERT INTO analytics_feed (org_id, entity, entity_id,
        old_user_id, old_type_id, old_outcome_id, old_at,
        new_user_id, new_type_id, new_outcome_id, new_at)
    VALUES (NEW.org_id, 'activity', NEW.id,
        CASE WHEN OLD.done THEN OLD.user_id END, CASE WHEN OLD.done THEN OLD.type_id END,
        CASE WHEN OLD.done THEN OLD.outcome_id END, CASE WHEN OLD.done THEN OLD.happened_at END,
        CASE WHEN NEW.done THEN NEW.user_id END, CASE WHEN NEW.done THEN NEW.type_id END,
        CASE WHEN NEW.done THEN NEW.outcome_id END, CASE WHEN NEW.done THEN NEW.happened_at END);
END;

CREATE TRIGGER analytics_feed_activity_delete AFTER DELETE ON activities
WHEN OLD.done
BEGIN
    INSERT INTO analytics_feed (org_id, entity, entity_id, old_user_id, old_type_id, old_outcome_id, old_at)
    VALUES (OLD.org_id, 'activity', OLD.id, OLD.user_id, OLD.type_id, OLD.outcome_id, OLD.happened_at);
END;

CREATE TRIGGER analytics_feed_lead_insert AFTER INSERT ON leads
BEGIN
    INSERT INTO analytics_feed (org_id, entity, entity_id) VALUES (NEW.org_id, 'lead', NEW.id);
END;

CREATE TRIGGER analytics_feed_lead_update AFTER UPDATE ON leads
BEGIN
    INSERT INTO analytics_feed (org_id, entity, entity_id) VALUES (NEW.org_id, 'lead', NEW.id);
END;

CREATE TRIGGER analytics_feed_lead_delete AFTER DELETE ON leads
BEGIN
    INSERT INTO analytics_feed (org_id, entity, entity_id) VALUES (OLD.org_id, 'lead', OLD.id);
END;

CREATE TRIGGER analytics_feed_stage_insert AFTER INSERT ON lead_stage_history
BEGIN
    INSERT INTO analytics_feed (org_id, entity, entity_id) VALUES (NEW.org_id, 'stage', NEW.lead_id);
END;

CREATE TRIGGER analytics_feed_stage_delete AFTER DELETE ON lead_stage_history
BEGIN
    INSERT INTO analytics_feed (org_id, entity, entity_id) VALUES (OLD.org_id, 'stage', OLD.lead_id);
END;

-- Settings: the organisation's people, teams, activity types, pipelines and rates.

CREATE TRIGGER analytics_feed_orgs_insert AFTER INSERT ON orgs
BEGIN
    INSERT INTO analytics_feed (org_id, entity, entity_id) VALUES (NEW.id, 'settings', NEW.id);
END;

CREATE TRIGGER analytics_feed_orgs_update AFTER UPDATE ON orgs
BEGIN
    INSERT INTO analytics_feed (org_id, entity, entity_id) VALUES (NEW.id, 'settings', NEW.id);
END;

CREATE TRIGGER analytics_feed_orgs_delete AFTER DELETE ON orgs
BEGIN
    INSERT INTO analytics_feed (org_id, entity, entity_id) VALUES (OLD.id, 'settings', OLD.id);
END;

CREATE TRIGGER analytics_feed_users_insert AFTER INSERT ON users
BEGIN
    INSERT INTO analytics_feed (org_id, entity, entity_id) VALUES (NEW.org_id, 'settings', NEW.org_id);
END;

CREATE TRIGGER analytics_feed_users_update AFTER UPDATE ON users
BEGIN
    INSERT INTO analytics_feed (org_id, entity, entity_id) VALUES (NEW.org_id, 'settings', NEW.org_id);
END;

CREATE TRIGGER analytics_feed_users_delete AFTER DELETE ON users
BEGIN
    INSERT INTO analytics_feed (org_id, entity, entity_id) VALUES (OLD.org_id, 'settings', OLD.org_id);
END;

CREATE TRIGGER analytics_feed_teams_insert AFTER INSERT ON teams
BEGIN
    INSERT INTO analytics_feed (org_id, entity, entity_id) VALUES (NEW.org_id, 'settings', NEW.org_id);
END;

CREATE TRIGGER analytics_feed_teams_update AFTER UPDATE ON teams
BEGIN
    INSERT INTO analytics_feed (org_id, entity, entity_id) VALUES (NEW.org_id, 'settings', NEW.org_id);
END;

CREATE TRIGGER analytics_feed_teams_delete AFTER DELETE ON teams
BEGIN
    INSERT INTO analytics_feed (org_id, entity, entity_id) VALUES (OLD.org_id, 'settings', OLD.org_id);
END;

CREATE TRIGGER analytics_feed_team_members_insert AFTER INSERT ON team_members
BEGIN
    INSERT INTO analytics_feed (org_id, entity, entity_id) VALUES (NEW.org_id, 'settings', NEW.org_id);
END;

CREATE TRIGGER analytics_feed_team_members_update AFTER UPDATE ON team_members
BEGIN
    INSERT INTO analytics_feed (org_id, entity, entity_id) VALUES (NEW.org_id, 'settings', NEW.org_id);
END;

CREATE TRIGGER analytics_feed_team_members_delete AFTER DELETE ON team_members
BEGIN
    INSERT INTO analytics_feed (org_id, entity, entity_id) VALUES (OLD.org_id, 'settings', OLD.org_id);
END;

CREATE TRIGGER analytics_feed_activity_types_insert AFTER INSERT ON activity_types
BEGIN
    INSERT INTO analytics_feed (org_id, entity, entity_id) VALUES (NEW.org_id, 'settings', NEW.org_id);
END;

CREATE TRIGGER analytics_feed_activity_types_update AFTER UPDATE ON activity_types
BEGIN
    INSERT INTO analytics_feed (org_id, entity, entity_id) VALUES (NEW.org_id, 'settings', NEW.org_id);
END;

CREATE TRIGGER analytics_feed_activity_types_delete AFTER DELETE ON activity_types
BEGIN
    INSERT INTO analytics_feed (org_id, entity, entity_id) VALUES (OLD.org_id, 'settings', OLD.org_id);
END;

CREATE TRIGGER analytics_feed_activity_outcomes_insert AFTER INSERT ON activity_outcomes
BEGIN
    INSERT INTO analytics_feed (org_id, entity, entity_id) VALUES (NEW.org_id, 'settings', NEW.org_id);
END;

CREATE TRIGGER analytics_feed_activity_outcomes_update AFTER UPDATE ON activity_outcomes
BEGIN
    INSERT INTO analytics_feed (org_id, entity, entity_id) VALUES (NEW.org_id, 'settings', NEW.org_id);
END;

CREATE TRIGGER analytics_feed_activity_outcomes_delete AFTER DELETE ON activity_outcomes
BEGIN
    INSERT INTO analytics_feed (org_id, entity, entity_id) VALUES (OLD.org_id, 'settings', OLD.org_id);
END;

CREATE TRIGGER analytics_feed_pipelines_insert AFTER INSERT ON pipelines
BEGIN
    INSERT INTO analytics_feed (org_id, entity, entity_id) VALUES (NEW.org_id, 'settings', NEW.org_id);
END;

CREATE TRIGGER analytics_feed_pipelines_update AFTER UPDATE ON pipelines
BEGIN
    INSERT INTO analytics_feed (org_id, entity, entity_id) VALUES (NEW.org_id, 'settings', NEW.org_id);
END;

CREATE TRIGGER analytics_feed_pipelines_delete AFTER DELETE ON pipelines
BEGIN
    INSERT INTO analytics_feed (org_id, entity, entity_id) VALUES (OLD.org_id, 'settings', OLD.org_id);
END;

CREATE TRIGGER analytics_feed_stages_insert AFTER INSERT ON stages
BEGIN
    INSERT INTO analytics_feed (org_id, entity, entity_id) VALUES (NEW.org_id, 'settings', NEW.org_id);
END;

CREATE TRIGGER analytics_feed_stages_update AFTER UPDATE ON stages
BEGIN
    INSERT INTO analytics_feed (org_id, entity, entity_id) VALUES (NEW.org_id, 'settings', NEW.org_id);
END;

CREATE TRIGGER analytics_feed_stages_delete AFTER DELETE ON stages
BEGIN
    INSERT INTO analytics_feed (org_id, entity, entity_id) VALUES (OLD.org_id, 'settings', OLD.org_id);
END;

CREATE TRIGGER analytics_feed_exchange_rates_insert AFTER INSERT ON exchange_rates
BEGIN
    INSERT INTO analytics_feed (org_id, entity, entity_id) VALUES (NEW.org_id, 'settings', NEW.org_id);
END;

CREATE TRIGGER analytics_feed_exchange_rates_update AFTER UPDATE ON exchange_rates
BEGIN
    INSERT INTO analytics_feed (org_id, entity, entity_id) VALUES (NEW.org_id, 'settings', NEW.org_id);
END;

CREATE TRIGGER analytics_feed_exchange_rates_delete AFTER DELETE ON exchange_rates
BEGIN
    INSERT INTO analytics_feed (org_id, entity, entity_id) VALUES (OLD.org_id, 'settings', OLD.org_id);
END;
