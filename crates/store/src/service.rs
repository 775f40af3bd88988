//! Public service requests (公共服务诉求): categories with their Open311 attributes,
//! requests with their history, the case number counter, and Open311 API keys.
//!
//! Which step is allowed is `core::service`; this module stores the outcome. A
//! request row carries a version: `update_service_request` refuses a write based on
//! an older one, so two people handling the same request cannot overwrite each
//! other. Query passwords and API keys are stored only hashed (argon2 / SHA-256).

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::error::{Result, StoreError};
use crate::{Store, WriteTx, flag};

/// A category a citizen chooses (an Open311 service).
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceCategory {
    pub code: String,
    pub name: String,
    pub description: String,
    pub group_name: String,
    pub keywords: String,
    /// The department it is usually dispatched to.
    pub unit_id: Option<String>,
    /// The time limit in working days.
    pub sla_days: i64,
    pub sort_order: i64,
    pub disabled: bool,
}

/// One question of a category's definition (an Open311 attribute).
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceAttribute {
    pub code: String,
    pub datatype: String,
    pub required: bool,
    pub description: String,
    pub datatype_description: String,
    pub sort_order: i64,
    /// `(key, name)` pairs of a list type.
    pub values: Vec<(String, String)>,
}

/// What intake records.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NewServiceRequest {
    pub year: i32,
    pub service_code: String,
    pub channel: String,
    pub description: String,
    pub address: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub phone: String,
    pub contact_name: String,
    /// Attribute code → value (lists: comma-separated keys).
    pub attributes: serde_json::Map<String, serde_json::Value>,
    pub password_hash: String,
    pub token: String,
    pub api_key_id: Option<i64>,
    /// The creation time (RFC 3339 UTC); `None`: now. The demo generator sets it.
    pub created_at: Option<String>,
}

/// A stored request.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceRequest {
    pub id: i64,
    pub case_no: String,
    pub year: i32,
    pub seq: i64,
    pub service_code: String,
    pub channel: String,
    pub state: String,
    pub description: String,
    pub address: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub phone: String,
    pub contact_name: String,
    pub attributes: serde_json::Map<String, serde_json::Value>,
    pub password_hash: String,
    pub token: String,
    pub api_key_id: Option<i64>,
    pub unit_id: Option<String>,
    pub deadline: Option<String>,
    pub first_dispatched_at: Option<String>,
    pub dispatched_at: Option<String>,
    pub done_at: Option<String>,
    pub verified_at: Option<String>,
    pub closed_at: Option<String>,
    pub rating: Option<String>,
    pub rating_comment: String,
    pub reply: String,
    pub redo_count: i64,
    pub escalated: i64,
    pub merged_into: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
}

/// A step to record in a request's history.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NewServiceEvent {
    pub step: String,
    pub from_state: Option<String>,
    pub to_state: String,
    pub unit_id: Option<String>,
    pub text: String,
    /// Shown to the citizen.
    pub public: bool,
    /// `None`: now.
    pub at: Option<String>,
}

/// A recorded step.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceEvent {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub step: String,
    pub from_state: Option<String>,
    pub to_state: String,
    pub unit_id: Option<String>,
    pub text: String,
    pub public: bool,
}

/// An Open311 API key (without the key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Open311Key {
    pub id: i64,
    pub name: String,
    pub created_by: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

/// Which requests to list. Empty lists and `None`s do not filter.
#[derive(Debug, Clone, Default)]
pub struct RequestFilter {
    pub states: Vec<String>,
    pub units: Option<Vec<String>>,
    pub service_codes: Vec<String>,
    pub case_numbers: Vec<String>,
    /// Created at or after (RFC 3339 UTC).
    pub created_from: Option<String>,
    /// Created before.
    pub created_to: Option<String>,
    pub limit: i64,
    pub offset: i64,
    /// Newest first (else oldest first).
    pub newest_first: bool,
}

const REQUEST_COLUMNS: &str = "id, case_no, year, seq, service_code, channel, state, description, address, lat, lon, phone, \
    contact_name, attributes_json, password_hash, token, api_key_id, unit_id, deadline, first_dispatched_at, dispatched_at, \
    done_at, verified_at, closed_at, rating, rating_comment, reply, redo_count, escalated, merged_into, created_at, updated_at, version";

fn category(row: &AnyRow) -> Result<ServiceCategory> {
    Ok(ServiceCategory {
        code: row.try_get("code")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        group_name: row.try_get("group_name")?,
        keywords: row.try_get("keywords")?,
        unit_id: row.try_get("unit_id")?,
        sla_days: row.try_get::<i64, _>("sla_days")?,
        sort_order: row.try_get::<i64, _>("sort_order")?,
        disabled: row.try_get::<i64, _>("disabled")? != 0,
    })
}

fn attribute(row: &AnyRow) -> Result<ServiceAttribute> {
    let values: String = row.try_get("values_json")?;
    let values: Vec<serde_json::Value> =
        serde_json::from_str(&values).map_err(|e| StoreError::invalid(format!("attribute values: {e}")))?;
    Ok(ServiceAttribute {
        code: row.try_get("code")?,
        datatype: row.try_get("datatype")?,
        required: row.try_get::<i64, _>("required")? != 0,
        description: row.try_get("description")?,
        datatype_description: row.try_get("datatype_description")?,
        sort_order: row.try_get::<i64, _>("sort_order")?,
        values: values
            .iter()
            .map(|v| (v["key"].as_str().unwrap_or("").to_string(), v["name"].as_str().unwrap_or("").to_string()))
            .collect(),
    })
}

fn request(row: &AnyRow, keys: Option<&crate::keys::Keys>) -> Result<ServiceRequest> {
    let phone: String = row.try_get("phone")?;
    // Encrypted at rest (`Keys::seal`); opened here, so callers see the number.
    let phone = match keys {
        Some(k) => k.open(&phone)?,
        None => phone,
    };
    let attributes: String = row.try_get("attributes_json")?;
    let attributes = serde_json::from_str(&attributes).map_err(|e| StoreError::invalid(format!("request attributes: {e}")))?;
    Ok(ServiceRequest {
        id: row.try_get("id")?,
        case_no: row.try_get("case_no")?,
        year: i32::try_from(row.try_get::<i64, _>("year")?).unwrap_or_default(),
        seq: row.try_get::<i64, _>("seq")?,
        service_code: row.try_get("service_code")?,
        channel: row.try_get("channel")?,
        state: row.try_get("state")?,
        description: row.try_get("description")?,
        address: row.try_get("address")?,
        lat: row.try_get("lat")?,
        lon: row.try_get("lon")?,
        phone,
        contact_name: row.try_get("contact_name")?,
        attributes,
        password_hash: row.try_get("password_hash")?,
        token: row.try_get("token")?,
        api_key_id: row.try_get("api_key_id")?,
        unit_id: row.try_get("unit_id")?,
        deadline: row.try_get("deadline")?,
        first_dispatched_at: row.try_get("first_dispatched_at")?,
        dispatched_at: row.try_get("dispatched_at")?,
        done_at: row.try_get("done_at")?,
        verified_at: row.try_get("verified_at")?,
        closed_at: row.try_get("closed_at")?,
        rating: row.try_get("rating")?,
        rating_comment: row.try_get("rating_comment")?,
        reply: row.try_get("reply")?,
        redo_count: row.try_get::<i64, _>("redo_count")?,
        escalated: row.try_get::<i64, _>("escalated")?,
        merged_into: row.try_get("merged_into")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        version: row.try_get::<i64, _>("version")?,
    })
}

fn event(row: &AnyRow) -> Result<ServiceEvent> {
    Ok(ServiceEvent {
        id: row.try_get("id")?,
        at: row.try_get("at")?,
        actor: row.try_get("actor")?,
        step: row.try_get("step")?,
        from_state: row.try_get("from_state")?,
        to_state: row.try_get("to_state")?,
        unit_id: row.try_get("unit_id")?,
        text: row.try_get("text")?,
        public: row.try_get::<i64, _>("public")? != 0,
    })
}

/// How a single request is looked up.
enum Key {
    Id(i64),
    Text(String),
}

/// `$n, $n+1, …` for `count` values starting at `first`.
fn placeholders(first: usize, count: usize) -> String {
    (first..first + count).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

impl Store {
    /// A phone number as stored: encrypted when the store has the key file's keys.
    fn sealed(&self, phone: &str) -> String {
        match self.keys() {
            Some(k) => k.seal(phone),
            None => phone.to_string(),
        }
    }

    /// Encrypts the phone numbers stored in plain text (before encryption at rest), in
    /// one audited transaction. Run by `migrate` when the store has its keys;
    /// idempotent. The number of requests changed.
    pub async fn encrypt_phones(&self) -> Result<u64> {
        let Some(keys) = self.keys() else { return Ok(0) };
        let rows: Vec<(i64, String)> =
            sqlx::query_as("SELECT id, phone FROM service_requests WHERE phone <> '' AND phone NOT LIKE 'sm4:%'")
                .fetch_all(self.pool())
                .await?;
        if rows.is_empty() {
            return Ok(0);
        }
        let mut tx = self.begin("system:migrate").await?;
        for (id, phone) in &rows {
            sqlx::query("UPDATE service_requests SET phone = $1 WHERE id = $2").bind(keys.seal(phone)).bind(id).execute(tx.conn()).await?;
        }
        tx.audit("service.encrypt_phones", "service_request", "*", None, Some(serde_json::json!({"requests": rows.len()}))).await?;
        tx.commit().await?;
        Ok(rows.len() as u64)
    }

    /// Creates or replaces a category (its attributes are set separately).
    pub async fn upsert_service_category(&self, tx: &mut WriteTx, c: &ServiceCategory) -> Result<()> {
        if c.code.trim().is_empty() || c.name.trim().is_empty() {
            return Err(StoreError::invalid("a service category needs a code and a name"));
        }
        if !(1..=365).contains(&c.sla_days) {
            return Err(StoreError::invalid(format!("the time limit of `{}` must be 1–365 working days", c.code)));
        }
        sqlx::query(
            "INSERT INTO service_categories (code, name, description, group_name, keywords, unit_id, sla_days, sort_order, disabled) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (code) DO UPDATE SET name = excluded.name, \
             description = excluded.description, group_name = excluded.group_name, keywords = excluded.keywords, \
             unit_id = excluded.unit_id, sla_days = excluded.sla_days, sort_order = excluded.sort_order, disabled = excluded.disabled",
        )
        .bind(&c.code)
        .bind(&c.name)
        .bind(&c.description)
        .bind(&c.group_name)
        .bind(&c.keywords)
        .bind(c.unit_id.as_deref())
        .bind(c.sla_days)
        .bind(c.sort_order)
        .bind(flag(c.disabled))
        .execute(tx.conn())
        .await?;
        Ok(())
    }

    /// Replaces the attributes of a category.
    pub async fn set_service_attributes(&self, tx: &mut WriteTx, service_code: &str, attributes: &[ServiceAttribute]) -> Result<()> {
        sqlx::query("DELETE FROM service_attributes WHERE service_code = $1").bind(service_code).execute(tx.conn()).await?;
        for a in attributes {
            let values: Vec<serde_json::Value> = a.values.iter().map(|(k, n)| serde_json::json!({"key": k, "name": n})).collect();
            sqlx::query(
                "INSERT INTO service_attributes (service_code, code, datatype, required, description, datatype_description, sort_order, values_json) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(service_code)
            .bind(&a.code)
            .bind(&a.datatype)
            .bind(flag(a.required))
            .bind(&a.description)
            .bind(&a.datatype_description)
            .bind(a.sort_order)
            .bind(serde_json::Value::Array(values).to_string())
            .execute(tx.conn())
            .await
            .map_err(|e| StoreError::invalid(format!("attribute `{}` of `{service_code}`: {e}", a.code)))?;
        }
        Ok(())
    }

    /// The categories in their order (disabled ones too when asked).
    pub async fn service_categories(&self, include_disabled: bool) -> Result<Vec<ServiceCategory>> {
        let rows = sqlx::query("SELECT * FROM service_categories WHERE ($1 = 1 OR disabled = 0) ORDER BY sort_order, code")
            .bind(flag(include_disabled))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(category).collect()
    }

    pub async fn service_category(&self, code: &str) -> Result<Option<ServiceCategory>> {
        let row = sqlx::query("SELECT * FROM service_categories WHERE code = $1").bind(code).fetch_optional(self.pool()).await?;
        row.as_ref().map(category).transpose()
    }

    pub async fn service_attributes(&self, service_code: &str) -> Result<Vec<ServiceAttribute>> {
        let rows = sqlx::query("SELECT * FROM service_attributes WHERE service_code = $1 ORDER BY sort_order, code")
            .bind(service_code)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(attribute).collect()
    }

    /// Records a new request in state `received` with the next case number of its
    /// year, and its first history entry.
    pub async fn create_service_request(&self, tx: &mut WriteTx, r: &NewServiceRequest) -> Result<ServiceRequest> {
        if r.description.trim().is_empty() {
            return Err(StoreError::invalid("a service request needs a description"));
        }
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO service_case_counters (year, last_seq) VALUES ($1, 1) \
             ON CONFLICT (year) DO UPDATE SET last_seq = service_case_counters.last_seq + 1 RETURNING last_seq",
        )
        .bind(r.year)
        .fetch_one(tx.conn())
        .await?;
        let case_no = format!("QK-{:04}-{seq:06}", r.year);
        let at = r.created_at.clone().unwrap_or_else(|| self.now());
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO service_requests (case_no, year, seq, service_code, channel, state, description, address, lat, lon, phone, \
             contact_name, attributes_json, password_hash, token, api_key_id, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, 'received', $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16) RETURNING id",
        )
        .bind(&case_no)
        .bind(r.year)
        .bind(seq)
        .bind(&r.service_code)
        .bind(&r.channel)
        .bind(&r.description)
        .bind(&r.address)
        .bind(r.lat)
        .bind(r.lon)
        .bind(self.sealed(&r.phone))
        .bind(&r.contact_name)
        .bind(serde_json::Value::Object(r.attributes.clone()).to_string())
        .bind(&r.password_hash)
        .bind(&r.token)
        .bind(r.api_key_id)
        .bind(&at)
        .fetch_one(tx.conn())
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(d) if d.message().contains("FOREIGN KEY") || d.message().contains("foreign key") => {
                StoreError::invalid(format!("unknown service code `{}`", r.service_code))
            }
            _ => e.into(),
        })?;
        let event =
            NewServiceEvent { step: "receive".into(), to_state: "received".into(), public: true, at: Some(at), ..Default::default() };
        self.add_service_event(tx, id, &event).await?;
        self.service_request_in(tx, id).await
    }

    /// Stores a request as it stands, with its history, under its own case number
    /// (imports and the demo); the year's case counter moves past it. Returns its id.
    pub async fn insert_service_request(&self, tx: &mut WriteTx, r: &ServiceRequest, events: &[NewServiceEvent]) -> Result<i64> {
        sqlx::query(
            "INSERT INTO service_case_counters (year, last_seq) VALUES ($1, $2) \
             ON CONFLICT (year) DO UPDATE SET last_seq = CASE WHEN service_case_counters.last_seq > excluded.last_seq \
             THEN service_case_counters.last_seq ELSE excluded.last_seq END",
        )
        .bind(r.year)
        .bind(r.seq)
        .execute(tx.conn())
        .await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO service_requests (case_no, year, seq, service_code, channel, state, description, address, lat, lon, phone, \
             contact_name, attributes_json, password_hash, token, api_key_id, unit_id, deadline, first_dispatched_at, dispatched_at, \
             done_at, verified_at, closed_at, rating, rating_comment, reply, redo_count, escalated, merged_into, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, \
             $25, $26, $27, $28, $29, $30, $31) RETURNING id",
        )
        .bind(&r.case_no)
        .bind(r.year)
        .bind(r.seq)
        .bind(&r.service_code)
        .bind(&r.channel)
        .bind(&r.state)
        .bind(&r.description)
        .bind(&r.address)
        .bind(r.lat)
        .bind(r.lon)
        .bind(self.sealed(&r.phone))
        .bind(&r.contact_name)
        .bind(serde_json::Value::Object(r.attributes.clone()).to_string())
        .bind(&r.password_hash)
        .bind(&r.token)
        .bind(r.api_key_id)
        .bind(r.unit_id.as_deref())
        .bind(r.deadline.as_deref())
        .bind(r.first_dispatched_at.as_deref())
        .bind(r.dispatched_at.as_deref())
        .bind(r.done_at.as_deref())
        .bind(r.verified_at.as_deref())
        .bind(r.closed_at.as_deref())
        .bind(r.rating.as_deref())
        .bind(&r.rating_comment)
        .bind(&r.reply)
        .bind(r.redo_count)
        .bind(r.escalated)
        .bind(r.merged_into.as_deref())
        .bind(&r.created_at)
        .bind(&r.updated_at)
        .fetch_one(tx.conn())
        .await?;
        for e in events {
            self.add_service_event(tx, id, e).await?;
        }
        Ok(id)
    }

    async fn service_request_in(&self, tx: &mut WriteTx, id: i64) -> Result<ServiceRequest> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {REQUEST_COLUMNS} FROM service_requests WHERE id = $1")))
            .bind(id)
            .fetch_one(tx.conn())
            .await?;
        request(&row, self.keys())
    }

    /// Writes a request's changed columns, refusing if it changed since `r.version`
    /// was read; returns the new version.
    pub async fn update_service_request(&self, tx: &mut WriteTx, r: &ServiceRequest) -> Result<i64> {
        let at = self.now();
        let done = sqlx::query(
            "UPDATE service_requests SET service_code = $1, state = $2, unit_id = $3, deadline = $4, first_dispatched_at = $5, \
             dispatched_at = $6, done_at = $7, verified_at = $8, closed_at = $9, rating = $10, rating_comment = $11, reply = $12, \
             redo_count = $13, escalated = $14, merged_into = $15, updated_at = $16, version = version + 1 \
             WHERE id = $17 AND version = $18",
        )
        .bind(&r.service_code)
        .bind(&r.state)
        .bind(r.unit_id.as_deref())
        .bind(r.deadline.as_deref())
        .bind(r.first_dispatched_at.as_deref())
        .bind(r.dispatched_at.as_deref())
        .bind(r.done_at.as_deref())
        .bind(r.verified_at.as_deref())
        .bind(r.closed_at.as_deref())
        .bind(r.rating.as_deref())
        .bind(&r.rating_comment)
        .bind(&r.reply)
        .bind(r.redo_count)
        .bind(r.escalated)
        .bind(r.merged_into.as_deref())
        .bind(&at)
        .bind(r.id)
        .bind(r.version)
        .execute(tx.conn())
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict { what: format!("request {}", r.case_no), expected: Some(r.version), current: None });
        }
        Ok(r.version + 1)
    }

    /// Appends a step to a request's history, by the transaction's actor.
    pub async fn add_service_event(&self, tx: &mut WriteTx, request_id: i64, e: &NewServiceEvent) -> Result<()> {
        let actor = tx.actor().to_string();
        sqlx::query(
            "INSERT INTO service_request_events (request_id, at, actor, step, from_state, to_state, unit_id, text, public) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(request_id)
        .bind(e.at.clone().unwrap_or_else(|| self.now()))
        .bind(actor)
        .bind(&e.step)
        .bind(e.from_state.as_deref())
        .bind(&e.to_state)
        .bind(e.unit_id.as_deref())
        .bind(&e.text)
        .bind(flag(e.public))
        .execute(tx.conn())
        .await?;
        Ok(())
    }

    pub async fn service_request(&self, id: i64) -> Result<Option<ServiceRequest>> {
        self.one_request("id", Key::Id(id)).await
    }

    /// The request with this case number (`qk-…` is read as `QK-…`).
    pub async fn service_request_by_case(&self, case_no: &str) -> Result<Option<ServiceRequest>> {
        self.one_request("case_no", Key::Text(case_no.trim().to_uppercase())).await
    }

    /// The request with this Open311 token.
    pub async fn service_request_by_token(&self, token: &str) -> Result<Option<ServiceRequest>> {
        self.one_request("token", Key::Text(token.to_string())).await
    }

    async fn one_request(&self, column: &str, key: Key) -> Result<Option<ServiceRequest>> {
        let sql = format!("SELECT {REQUEST_COLUMNS} FROM service_requests WHERE {column} = $1");
        let q = sqlx::query(sqlx::AssertSqlSafe(sql));
        let q = match key {
            Key::Id(id) => q.bind(id),
            Key::Text(t) => q.bind(t),
        };
        let row = q.fetch_optional(self.pool()).await?;
        row.as_ref().map(|r| request(r, self.keys())).transpose()
    }

    /// A request's history, oldest first.
    pub async fn service_events(&self, request_id: i64) -> Result<Vec<ServiceEvent>> {
        let rows = sqlx::query("SELECT * FROM service_request_events WHERE request_id = $1 ORDER BY id")
            .bind(request_id)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(event).collect()
    }

    /// Requests matching `f`, one page, with the number matching in all.
    pub async fn service_requests(&self, f: &RequestFilter) -> Result<(Vec<ServiceRequest>, i64)> {
        let mut conditions = vec!["1 = 1".to_string()];
        let mut binds: Vec<String> = Vec::new();
        let list = |column: &str, values: &[String], conditions: &mut Vec<String>, binds: &mut Vec<String>| {
            conditions.push(if values.is_empty() {
                "1 = 0".into()
            } else {
                format!("{column} IN ({})", placeholders(binds.len() + 1, values.len()))
            });
            binds.extend(values.iter().cloned());
        };
        if !f.states.is_empty() {
            list("state", &f.states, &mut conditions, &mut binds);
        }
        if let Some(units) = &f.units {
            list("unit_id", units, &mut conditions, &mut binds);
        }
        if !f.service_codes.is_empty() {
            list("service_code", &f.service_codes, &mut conditions, &mut binds);
        }
        if !f.case_numbers.is_empty() {
            list("case_no", &f.case_numbers, &mut conditions, &mut binds);
        }
        if let Some(from) = &f.created_from {
            binds.push(from.clone());
            conditions.push(format!("created_at >= ${}", binds.len()));
        }
        if let Some(to) = &f.created_to {
            binds.push(to.clone());
            conditions.push(format!("created_at < ${}", binds.len()));
        }
        let filter = conditions.join(" AND ");
        let count_sql = format!("SELECT COUNT(*) FROM service_requests WHERE {filter}");
        let mut count = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(count_sql));
        for b in &binds {
            count = count.bind(b.clone());
        }
        let total = count.fetch_one(self.pool()).await?;
        let order = if f.newest_first { "DESC" } else { "ASC" };
        let n = binds.len();
        let sql = format!(
            "SELECT {REQUEST_COLUMNS} FROM service_requests WHERE {filter} ORDER BY created_at {order}, id {order} LIMIT ${} OFFSET ${}",
            n + 1,
            n + 2
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for b in &binds {
            q = q.bind(b.clone());
        }
        let rows = q.bind(f.limit.max(0)).bind(f.offset.max(0)).fetch_all(self.pool()).await?;
        Ok((rows.iter().map(|r| request(r, self.keys())).collect::<Result<_>>()?, total))
    }

    /// Requests of `year` that were ever dispatched (what the department metrics read).
    pub async fn dispatched_service_requests(&self, year: i32) -> Result<Vec<ServiceRequest>> {
        let sql = format!("SELECT {REQUEST_COLUMNS} FROM service_requests WHERE year = $1 AND first_dispatched_at IS NOT NULL ORDER BY id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(year).fetch_all(self.pool()).await?;
        rows.iter().map(|r| request(r, self.keys())).collect()
    }

    /// Requests last dispatched to `unit` that were first dispatched or closed at or
    /// after `since` (a stored timestamp), whatever their year: what a department's
    /// metrics of the months from `since` on read.
    pub async fn unit_service_requests_since(&self, unit: &str, since: &str) -> Result<Vec<ServiceRequest>> {
        let sql = format!(
            "SELECT {REQUEST_COLUMNS} FROM service_requests WHERE unit_id = $1 AND first_dispatched_at IS NOT NULL \
             AND (first_dispatched_at >= $2 OR closed_at >= $2) ORDER BY id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(unit).bind(since).fetch_all(self.pool()).await?;
        rows.iter().map(|r| request(r, self.keys())).collect()
    }

    /// Verified requests verified at or before `before`: candidates to close unrated.
    pub async fn verified_before(&self, before: &str, limit: i64) -> Result<Vec<ServiceRequest>> {
        let sql = format!(
            "SELECT {REQUEST_COLUMNS} FROM service_requests WHERE state = 'verified' AND verified_at <= $1 ORDER BY verified_at LIMIT $2"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(before).bind(limit).fetch_all(self.pool()).await?;
        rows.iter().map(|r| request(r, self.keys())).collect()
    }

    /// Stores a new Open311 key by the SHA-256 of its secret; returns its id.
    pub async fn add_open311_key(&self, tx: &mut WriteTx, name: &str, key_hash: &str) -> Result<i64> {
        if name.trim().is_empty() {
            return Err(StoreError::invalid("an Open311 key needs a name"));
        }
        let by = tx.actor().to_string();
        let id =
            sqlx::query_scalar("INSERT INTO open311_keys (name, key_hash, created_by, created_at) VALUES ($1, $2, $3, $4) RETURNING id")
                .bind(name.trim())
                .bind(key_hash)
                .bind(by)
                .bind(self.now())
                .fetch_one(tx.conn())
                .await?;
        Ok(id)
    }

    pub async fn open311_keys(&self) -> Result<Vec<Open311Key>> {
        let rows =
            sqlx::query("SELECT id, name, created_by, created_at, revoked_at FROM open311_keys ORDER BY id").fetch_all(self.pool()).await?;
        rows.iter()
            .map(|r| {
                Ok(Open311Key {
                    id: r.try_get("id")?,
                    name: r.try_get("name")?,
                    created_by: r.try_get("created_by")?,
                    created_at: r.try_get("created_at")?,
                    revoked_at: r.try_get("revoked_at")?,
                })
            })
            .collect()
    }

    /// The key with this hash, if it exists and is not revoked: (id, name).
    pub async fn open311_key_by_hash(&self, key_hash: &str) -> Result<Option<(i64, String)>> {
        let row = sqlx::query("SELECT id, name FROM open311_keys WHERE key_hash = $1 AND revoked_at IS NULL")
            .bind(key_hash)
            .fetch_optional(self.pool())
            .await?;
        Ok(match row {
            Some(r) => Some((r.try_get("id")?, r.try_get("name")?)),
            None => None,
        })
    }

    /// Revokes a key; an unknown or already revoked key is an error.
    pub async fn revoke_open311_key(&self, tx: &mut WriteTx, id: i64) -> Result<()> {
        let done = sqlx::query("UPDATE open311_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(self.now())
            .bind(id)
            .execute(tx.conn())
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found(format!("active Open311 key {id}")));
        }
        Ok(())
    }
}
