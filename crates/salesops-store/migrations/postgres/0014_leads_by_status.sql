-- Lists of leads filtered by status (the open ones, the won ones) in id
-- order: without this index a page of open leads walked the organisation's
-- leads from the oldest (1.2 s for 51 rows among two million).

CREATE INDEX leads_status ON leads (org_id, status, id);
