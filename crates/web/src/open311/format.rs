//! Open311's two formats. Every response is built once as JSON and written as JSON
//! or as XML: an array becomes a list element whose items are named by the singular
//! of the list's name (`services` → `service`, `service_requests` → `request`, …),
//! `null` an empty element, booleans `true` / `false`. Both carry UTF-8 with the
//! Content-Type the standard shows (`application/json`, `text/xml`).

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Xml,
}

/// `services.json` → (`services`, JSON). Anything but `.json` / `.xml` is `None`.
pub fn split(file: &str) -> Option<(&str, Format)> {
    if let Some(stem) = file.strip_suffix(".json") {
        Some((stem, Format::Json))
    } else {
        file.strip_suffix(".xml").map(|stem| (stem, Format::Xml))
    }
}

fn singular(list: &str) -> &str {
    match list {
        "services" => "service",
        "service_requests" => "request",
        "attributes" => "attribute",
        "values" => "value",
        "endpoints" => "endpoint",
        "formats" => "format",
        "errors" => "error",
        other => other.strip_suffix('s').unwrap_or(other),
    }
}

fn write_value(w: &mut Writer<Vec<u8>>, name: &str, value: &Value) -> std::io::Result<()> {
    match value {
        Value::Null => {
            w.write_event(Event::Empty(BytesStart::new(name)))?;
        }
        Value::Array(items) => {
            w.write_event(Event::Start(BytesStart::new(name)))?;
            for item in items {
                write_value(w, singular(name), item)?;
            }
            w.write_event(Event::End(BytesEnd::new(name)))?;
        }
        Value::Object(map) => {
            w.write_event(Event::Start(BytesStart::new(name)))?;
            for (k, v) in map {
                write_value(w, k, v)?;
            }
            w.write_event(Event::End(BytesEnd::new(name)))?;
        }
        scalar => {
            let text = match scalar {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            w.write_event(Event::Start(BytesStart::new(name)))?;
            w.write_event(Event::Text(BytesText::new(&text)))?;
            w.write_event(Event::End(BytesEnd::new(name)))?;
        }
    }
    Ok(())
}

/// `value` as an XML document with root element `root`.
pub fn xml(root: &str, value: &Value) -> String {
    let mut w = Writer::new(Vec::new());
    let written = w.write_event(Event::Decl(BytesDecl::new("1.0", Some("utf-8"), None))).and_then(|()| write_value(&mut w, root, value));
    match written {
        Ok(()) => String::from_utf8(w.into_inner()).unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// A response in `format`; `root` names the XML root (the JSON is `value` as is).
pub fn respond(format: Format, status: StatusCode, root: &str, value: &Value) -> Response {
    let (content_type, body) = match format {
        Format::Json => ("application/json; charset=utf-8", value.to_string()),
        Format::Xml => ("text/xml; charset=utf-8", xml(root, value)),
    };
    (status, [(header::CONTENT_TYPE, content_type)], body).into_response()
}

/// The standard's error body: `[{"code": 400, "description": "…"}]`, or
/// `<errors><error><code>400</code><description>…</description></error></errors>`.
pub fn error(format: Format, status: StatusCode, description: &str) -> Response {
    let body = json!([{"code": status.as_u16(), "description": description}]);
    respond(format, status, "errors", &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_items() {
        let v = json!([{"service_code": "road", "metadata": true, "keywords": null, "name": "道路 <破损> & 积水"}]);
        assert_eq!(
            xml("services", &v),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><services><service><service_code>road</service_code><metadata>true</metadata>\
             <keywords/><name>道路 &lt;破损&gt; &amp; 积水</name></service></services>"
        );
        assert_eq!(split("requests.xml"), Some(("requests", Format::Xml)));
        assert_eq!(split("requests.html"), None);
    }
}
