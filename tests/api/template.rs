//! `template.yaml` agrees with the code: the table is the one `store::table` creates, and every
//! HttpApi route the template declares is served by the local app (the same routers). And the
//! uploads bucket keeps its promises: private, encrypted, TLS only, nothing kept past a day, the
//! S3 event on uploads/ only, and each function's S3 permissions exactly what it needs.

use std::collections::BTreeSet;

use compliance_store::table;
use reqwest::{Method, StatusCode};
use serde_yaml::Value;
use test_support::spawn_app;

fn template() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml");
    serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn s(v: &Value) -> &str {
    v.as_str()
        .unwrap_or_else(|| panic!("expected a string, got {v:?}"))
}

#[test]
fn table_definition_matches_the_code() {
    let t = template();
    let props = &t["Resources"]["Table"]["Properties"];
    let keys: Vec<(&str, &str)> = props["KeySchema"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|k| (s(&k["AttributeName"]), s(&k["KeyType"])))
        .collect();
    assert_eq!(
        keys,
        vec![(table::HASH_KEY, "HASH"), (table::RANGE_KEY, "RANGE")]
    );
    let attrs: Vec<(&str, &str)> = props["AttributeDefinitions"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|a| (s(&a["AttributeName"]), s(&a["AttributeType"])))
        .collect();
    assert_eq!(
        attrs,
        vec![(table::HASH_KEY, "S"), (table::RANGE_KEY, "S")],
        "no other indexed attribute, no GSI"
    );
    assert!(props.get("GlobalSecondaryIndexes").is_none());
    assert_eq!(s(&props["BillingMode"]), table::BILLING_MODE);
    assert_eq!(
        s(&props["StreamSpecification"]["StreamViewType"]),
        table::STREAM_VIEW_TYPE
    );
    assert_eq!(
        s(&props["TimeToLiveSpecification"]["AttributeName"]),
        table::TTL_ATTRIBUTE
    );
    assert_eq!(
        props["TimeToLiveSpecification"]["Enabled"],
        Value::Bool(true)
    );
    assert_eq!(
        props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"],
        Value::Bool(table::POINT_IN_TIME_RECOVERY)
    );
}

/// (method, path) of every HttpApi event in the template.
fn template_routes() -> Vec<(String, String)> {
    let t = template();
    let mut routes = Vec::new();
    for (_, resource) in t["Resources"].as_mapping().unwrap() {
        let Some(events) = resource["Properties"]["Events"].as_mapping() else {
            continue;
        };
        for (_, event) in events {
            if event["Type"].as_str() == Some("HttpApi") {
                let p = &event["Properties"];
                routes.push((s(&p["Method"]).to_uppercase(), s(&p["Path"]).to_string()));
            }
        }
    }
    routes
}

/// (method, path) of the HttpApi events of one function resource.
fn function_routes(logical_id: &str) -> BTreeSet<(String, String)> {
    let t = template();
    let events = t["Resources"][logical_id]["Properties"]["Events"]
        .as_mapping()
        .unwrap_or_else(|| panic!("{logical_id} has no events"));
    events
        .iter()
        .filter(|(_, e)| e["Type"].as_str() == Some("HttpApi"))
        .map(|(_, e)| {
            let p = &e["Properties"];
            (s(&p["Method"]).to_uppercase(), s(&p["Path"]).to_string())
        })
        .collect()
}

#[test]
fn every_router_path_has_its_http_api_route_and_no_more() {
    let functions = [
        ("AdminApiFunction", admin_api::routes()),
        ("FrameworksApiFunction", frameworks_api::routes()),
        (
            "CustomFrameworksApiFunction",
            custom_frameworks_api::routes(),
        ),
        ("ScansApiFunction", scans_api::routes()),
        ("ScoresApiFunction", scores_api::routes()),
        ("AuditsApiFunction", audits_api::routes()),
    ];
    let mut all = BTreeSet::new();
    for (logical_id, routes) in functions {
        let served: BTreeSet<(String, String)> = routes
            .table()
            .iter()
            .map(|(m, p)| (m.to_string(), p.to_string()))
            .collect();
        assert_eq!(served, function_routes(logical_id), "{logical_id}");
        all.extend(served);
    }
    // The dashboard's page and assets, outside /api.
    let dashboard: BTreeSet<(String, String)> = compliance_dashboard::ROUTES
        .iter()
        .map(|p| ("GET".to_string(), p.to_string()))
        .collect();
    assert_eq!(dashboard, function_routes("DashboardFunction"));
    all.extend(dashboard);
    let declared: BTreeSet<(String, String)> = template_routes().into_iter().collect();
    assert_eq!(
        all, declared,
        "every HttpApi route belongs to one of these functions"
    );
}

#[tokio::test]
async fn every_template_route_is_served() {
    let app = spawn_app().await;
    let routes = template_routes();
    assert!(!routes.is_empty());
    for (method, path) in routes {
        if !path.starts_with("/api/") {
            continue; // the dashboard's files: below
        }
        let concrete = path.replace(['{', '}'], "");
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let resp = app.call(method.clone(), &concrete, None, None).await;
        let fallback = resp.status == StatusCode::NOT_FOUND && resp.body["detail"] == "Not found";
        assert!(
            !fallback,
            "{method} {path} is in the template but no router serves it"
        );
        assert_ne!(
            resp.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
    }
}

/// The dashboard's routes, served by the local app (the same router the function runs) with the
/// Content-Security-Policy, beside the API (an unknown /api path is still the API's JSON 404).
#[tokio::test]
async fn the_dashboard_routes_are_served_beside_the_api() {
    let app = spawn_app().await;
    for (path, content_type) in [
        ("/", "text/html; charset=utf-8"),
        ("/assets/js/app.js", "text/javascript; charset=utf-8"),
        (
            "/assets/vendor/uplot/uPlot.esm.js",
            "text/javascript; charset=utf-8",
        ),
    ] {
        let resp = app
            .client
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        assert_eq!(resp.headers()["content-type"], content_type, "{path}");
        assert_eq!(
            resp.headers()["content-security-policy"],
            compliance_dashboard::CONTENT_SECURITY_POLICY
        );
    }
    let missing = app.get("/api/no-such-route").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.body["detail"], "Not found");
}

/// The inner value of a `!Tag value` node (`!Ref`, `!Sub`, `!GetAtt` ...), or a panic.
fn tagged<'a>(v: &'a Value, tag: &str) -> &'a Value {
    match v {
        Value::Tagged(t) if t.tag == tag => &t.value,
        other => panic!("expected !{tag}, got {other:?}"),
    }
}

/// The uploads bucket's name as the template builds it (the string of its `!Sub`), which every
/// policy must name instead of referring to the resource.
fn uploads_bucket_name(t: &Value) -> String {
    let name = &t["Resources"]["UploadsBucket"]["Properties"]["BucketName"];
    s(tagged(name, "Sub")).to_string()
}

/// (action, object-key pattern) of every S3 statement in a function's inline policies; a
/// bucket-level resource gives the pattern "" (and its condition's s3:prefix values, if any,
/// as further pairs "prefix:<value>"). Panics on anything that is not an Allow on the uploads
/// bucket.
fn s3_grants(t: &Value, logical_id: &str) -> BTreeSet<(String, String)> {
    let bucket_arn = format!("arn:${{AWS::Partition}}:s3:::{}", uploads_bucket_name(t));
    let granted = grants(t, logical_id);
    assert!(
        granted.sam_templates.is_empty(),
        "{logical_id}: only statements, got {:?}",
        granted.sam_templates
    );
    let mut grants = BTreeSet::new();
    for st in granted.statements {
        let actions: Vec<&str> = match st["Action"].as_sequence() {
            Some(list) => list.iter().map(s).collect(),
            None => vec![s(&st["Action"])],
        };
        if !actions.iter().any(|a| a.starts_with("s3:")) {
            continue;
        }
        assert!(
            actions
                .iter()
                .all(|a| a.starts_with("s3:") && !a.contains('*')),
            "{logical_id}: S3 actions named one by one, alone in their statement: {actions:?}"
        );
        assert_eq!(s(&st["Effect"]), "Allow", "{logical_id}");
        let resources: Vec<&Value> = match st["Resource"].as_sequence() {
            Some(list) => list.iter().collect(),
            None => vec![&st["Resource"]],
        };
        for resource in resources {
            let arn = s(tagged(resource, "Sub"));
            let pattern = if arn == bucket_arn {
                String::new()
            } else {
                arn.strip_prefix(&format!("{bucket_arn}/"))
                    .unwrap_or_else(|| panic!("{logical_id}: {arn} is not in the uploads bucket"))
                    .to_string()
            };
            for action in &actions {
                grants.insert((action.to_string(), pattern.clone()));
            }
            if pattern.is_empty() {
                let prefixes = &st["Condition"]["StringLike"]["s3:prefix"];
                let prefixes: Vec<&str> = match prefixes {
                        Value::Sequence(list) => list.iter().map(s).collect(),
                        Value::String(one) => vec![one.as_str()],
                        _ => panic!("{logical_id}: {actions:?} on the whole bucket without an s3:prefix condition"),
                    };
                for p in prefixes {
                    grants.insert((actions.join(","), format!("prefix:{p}")));
                }
            }
        }
    }
    grants
}

fn pairs(list: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    list.iter()
        .map(|(a, p)| (a.to_string(), p.to_string()))
        .collect()
}

/// The uploads bucket: never public, encrypted at rest, and nothing kept past a day (raw records
/// are kept no longer than the run needs them), abandoned multipart uploads included.
#[test]
fn uploads_bucket_is_private_encrypted_and_expires_everything_after_a_day() {
    let t = template();
    let bucket = &t["Resources"]["UploadsBucket"];
    assert_eq!(s(&bucket["Type"]), "AWS::S3::Bucket");
    let props = &bucket["Properties"];
    let block = &props["PublicAccessBlockConfiguration"];
    for flag in [
        "BlockPublicAcls",
        "BlockPublicPolicy",
        "IgnorePublicAcls",
        "RestrictPublicBuckets",
    ] {
        assert_eq!(block[flag], Value::Bool(true), "{flag}");
    }
    let encryption = &props["BucketEncryption"]["ServerSideEncryptionConfiguration"];
    let rules = encryption.as_sequence().expect("default encryption");
    assert_eq!(rules.len(), 1);
    let algorithm = s(&rules[0]["ServerSideEncryptionByDefault"]["SSEAlgorithm"]);
    assert!(
        ["AES256", "aws:kms"].contains(&algorithm),
        "SSE-S3 or SSE-KMS, got {algorithm}"
    );
    let lifecycle = props["LifecycleConfiguration"]["Rules"]
        .as_sequence()
        .expect("a lifecycle rule");
    let every_object_one_day = lifecycle.iter().any(|r| {
        s(&r["Status"]) == "Enabled"
            && r["ExpirationInDays"].as_u64() == Some(1)
            && r["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"].as_u64() == Some(1)
            && r.get("Prefix").is_none()
            && r.get("TagFilters").is_none()
            && r.get("ObjectSizeGreaterThan").is_none()
            && r.get("ObjectSizeLessThan").is_none()
    });
    assert!(
        every_object_one_day,
        "an enabled rule, for every object, expiring it and aborting multipart uploads after 1 day: {lifecycle:?}"
    );
}

/// Plain HTTP is refused for every request on the bucket and its objects.
#[test]
fn uploads_bucket_policy_denies_requests_without_tls() {
    let t = template();
    let policies: Vec<&Value> = t["Resources"]
        .as_mapping()
        .unwrap()
        .values()
        .filter(|r| r["Type"].as_str() == Some("AWS::S3::BucketPolicy"))
        .filter(|r| r["Properties"]["Bucket"].as_str() == Some("UploadsBucket"))
        .collect();
    assert_eq!(
        policies.len(),
        1,
        "one bucket policy on UploadsBucket (!Ref)"
    );
    let doc = &policies[0]["Properties"]["PolicyDocument"];
    let tls_only = doc["Statement"].as_sequence().unwrap().iter().any(|st| {
        let condition = &st["Condition"]["Bool"]["aws:SecureTransport"];
        let resources: Vec<String> = st["Resource"]
            .as_sequence()
            .map(|l| {
                l.iter()
                    .map(|r| match r {
                        Value::Tagged(tv) if tv.tag == "GetAtt" => {
                            format!("GetAtt {}", s(&tv.value))
                        }
                        other => format!("Sub {}", s(tagged(other, "Sub"))),
                    })
                    .collect()
            })
            .unwrap_or_default();
        s(&st["Effect"]) == "Deny"
            && st["Principal"].as_str() == Some("*")
            && st["Action"].as_str() == Some("s3:*")
            && (condition.as_str() == Some("false") || condition == &Value::Bool(false))
            && resources.contains(&"GetAtt UploadsBucket.Arn".to_string())
            && resources.contains(&"Sub ${UploadsBucket.Arn}/*".to_string())
    });
    assert!(
        tls_only,
        "a Deny of s3:* on the bucket and its objects when aws:SecureTransport is false"
    );
}

/// process-upload runs on every object created under uploads/, and nowhere else (its own
/// writes under partitions/ must not invoke it again).
#[test]
fn process_upload_runs_on_objects_created_under_uploads() {
    let t = template();
    let function = &t["Resources"]["ProcessUploadFunction"];
    assert_eq!(
        s(&function["Metadata"]["BuildProperties"]["Binary"]),
        "process-upload"
    );
    let events = function["Properties"]["Events"].as_mapping().unwrap();
    assert_eq!(events.len(), 1);
    let event = events.values().next().unwrap();
    assert_eq!(s(&event["Type"]), "S3");
    let p = &event["Properties"];
    assert_eq!(s(tagged(&p["Bucket"], "Ref")), "UploadsBucket");
    assert_eq!(s(&p["Events"]), "s3:ObjectCreated:*");
    let rules: Vec<(&str, &str)> = p["Filter"]["S3Key"]["Rules"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|r| (s(&r["Name"]), s(&r["Value"])))
        .collect();
    assert_eq!(rules, vec![("prefix", "uploads/")]);
}

/// Least privilege on the bucket: process-upload reads and deletes uploads and writes
/// partitions, nothing more; the upload endpoints only sign posts under uploads/; the partition
/// runner touches partitions and results only, and lists no other prefix.
#[test]
fn s3_permissions_are_exactly_what_each_function_needs() {
    let t = template();
    assert_eq!(
        s3_grants(&t, "ProcessUploadFunction"),
        pairs(&[
            ("s3:GetObject", "uploads/*"),
            ("s3:DeleteObject", "uploads/*"),
            ("s3:PutObject", "partitions/*"),
        ])
    );
    for api in ["ScansApiFunction", "AuditsApiFunction"] {
        assert_eq!(
            s3_grants(&t, api),
            pairs(&[("s3:PutObject", "uploads/*")]),
            "{api}"
        );
    }
    assert_eq!(
        s3_grants(&t, "RunPartitionsFunction"),
        pairs(&[
            ("s3:GetObject", "partitions/*"),
            ("s3:GetObject", "results/*"),
            ("s3:DeleteObject", "partitions/*"),
            ("s3:DeleteObject", "results/*"),
            ("s3:PutObject", "results/*"),
            ("s3:ListBucket", ""),
            ("s3:ListBucket", "prefix:partitions/*"),
            ("s3:ListBucket", "prefix:results/*"),
        ])
    );
}

/// No secret value in any function's configuration: the HS256 secret is named
/// (`JWT_HS256_SECRET_ID`), never resolved into an environment, and only the functions that
/// verify tokens may read it, through one policy: that secret only, and its customer-managed
/// key (when the stack is given one) only as Secrets Manager decrypts that secret with it.
#[test]
fn no_secret_is_in_a_functions_environment() {
    let t = template();
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml")).unwrap();
    assert!(
        !text.contains("resolve:secretsmanager"),
        "no dynamic reference to a secret"
    );
    let globals = t["Globals"]["Function"]["Environment"]["Variables"]
        .as_mapping()
        .unwrap();
    assert!(globals.get("JWT_HS256_SECRET").is_none());
    assert!(globals.get("JWT_HS256_SECRET_ID").is_some());
    let mut readers = BTreeSet::new();
    for (id, resource) in t["Resources"].as_mapping().unwrap() {
        let vars = &resource["Properties"]["Environment"]["Variables"];
        assert!(
            vars.get("JWT_HS256_SECRET").is_none(),
            "{id:?} has the secret in its environment"
        );
        for policy in resource["Properties"]["Policies"]
            .as_sequence()
            .into_iter()
            .flatten()
        {
            match policy {
                Value::Tagged(t) if t.tag == "If" => {
                    let [condition, then, otherwise] = t.value.as_sequence().unwrap().as_slice()
                    else {
                        panic!("{id:?}: !If takes three values")
                    };
                    if s(condition) == "HasHs256Secret" {
                        assert_eq!(s(tagged(then, "Ref")), "ReadHs256Secret", "{id:?}");
                        assert_eq!(s(tagged(otherwise, "Ref")), "AWS::NoValue", "{id:?}");
                        readers.insert(s(id).to_string());
                    }
                    assert!(
                        !serde_yaml::to_string(policy)
                            .unwrap()
                            .contains("secretsmanager"),
                        "{id:?}: the secret is read through ReadHs256Secret only"
                    );
                }
                policy => assert!(
                    !serde_yaml::to_string(policy)
                        .unwrap()
                        .contains("secretsmanager"),
                    "{id:?}: the secret is read through ReadHs256Secret only"
                ),
            }
        }
    }
    // The HTTP API's functions (the dashboard serves files, no token), and the upload functions,
    // which run the API's handlers on what was uploaded.
    let expected = [
        "AdminApiFunction",
        "AuditsApiFunction",
        "CustomFrameworksApiFunction",
        "FrameworksApiFunction",
        "ProcessUploadFunction",
        "RunPartitionsFunction",
        "ScansApiFunction",
        "ScoresApiFunction",
    ];
    assert_eq!(readers, expected.map(String::from).into());

    let policy = &t["Resources"]["ReadHs256Secret"];
    assert_eq!(s(&policy["Type"]), "AWS::IAM::ManagedPolicy");
    assert_eq!(s(&policy["Condition"]), "HasHs256Secret");
    let secret = "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:${JwtHs256SecretName}-??????";
    let statements = policy["Properties"]["PolicyDocument"]["Statement"]
        .as_sequence()
        .unwrap();
    let [read, decrypt] = statements.as_slice() else {
        panic!("two statements: {statements:?}")
    };
    assert_eq!(s(&read["Action"]), "secretsmanager:GetSecretValue");
    assert_eq!(
        s(tagged(&read["Resource"], "Sub")),
        secret,
        "that secret only"
    );
    let decrypt = tagged(decrypt, "If").as_sequence().unwrap();
    assert_eq!(s(&decrypt[0]), "HasHs256SecretKey");
    assert_eq!(s(tagged(&decrypt[2], "Ref")), "AWS::NoValue");
    let decrypt = &decrypt[1];
    assert_eq!(s(&decrypt["Action"]), "kms:Decrypt");
    assert_eq!(
        s(tagged(&decrypt["Resource"], "Ref")),
        "JwtHs256SecretKmsKeyArn"
    );
    let when = &decrypt["Condition"];
    assert_eq!(
        s(tagged(&when["StringEquals"]["kms:ViaService"], "Sub")),
        "secretsmanager.${AWS::Region}.amazonaws.com"
    );
    assert_eq!(
        s(tagged(
            &when["StringLike"]["kms:EncryptionContext:SecretARN"],
            "Sub"
        )),
        secret
    );
    let key_condition = serde_yaml::to_string(&t["Conditions"]["HasHs256SecretKey"]).unwrap();
    assert!(
        key_condition.contains("HasHs256Secret")
            && key_condition.contains("JwtHs256SecretKmsKeyArn"),
        "{key_condition}"
    );
}

/// What a function's `Policies` grant, a condition's (`!If [cond, x, AWS::NoValue]`) taken as
/// granted.
struct Grants<'a> {
    /// Inline statements, and those of the stack's own managed policies it names (`!Ref`).
    statements: Vec<&'a Value>,
    /// SAM policy templates (`SQSSendMessagePolicy: …`), whose statements the template does not
    /// show.
    sam_templates: Vec<&'a Value>,
}

/// [`Grants`] of a function. Panics on a managed policy from outside the stack.
fn grants<'a>(t: &'a Value, logical_id: &str) -> Grants<'a> {
    let granted = |v: &'a Value| match v {
        Value::Tagged(t) if t.tag == "If" => &t.value[1],
        v => v,
    };
    let (mut statements, mut sam_templates) = (Vec::new(), Vec::new());
    let policies = t["Resources"][logical_id]["Properties"]["Policies"].as_sequence();
    for policy in policies.into_iter().flatten().map(granted) {
        let document = match policy {
            Value::Tagged(r) if r.tag == "Ref" => {
                let managed = &t["Resources"][s(&r.value)];
                assert_eq!(
                    s(&managed["Type"]),
                    "AWS::IAM::ManagedPolicy",
                    "{logical_id}: {policy:?}"
                );
                &managed["Properties"]["PolicyDocument"]
            }
            inline => inline,
        };
        match document["Statement"].as_sequence() {
            Some(listed) => statements.extend(listed.iter().map(granted)),
            None => sam_templates.push(policy),
        }
    }
    Grants {
        statements,
        sam_templates,
    }
}

/// What the storage port sends on behalf of a function is allowed wherever the function may
/// read or write the table: a function that may `GetItem` may `BatchGetItem` (the org's
/// versions item read with what a request needs beside it), and one that may `PutItem` may
/// `UpdateItem` (the store adds the count of a change to what scoring reads in the same
/// transaction, whichever function makes the change).
#[test]
fn table_grants_cover_what_the_store_sends() {
    let t = template();
    let resources = t["Resources"].as_mapping().unwrap();
    let mut readers = BTreeSet::new();
    for (id, resource) in resources {
        if resource["Properties"]["Policies"].as_sequence().is_none() {
            continue;
        }
        let id = s(id);
        let mut actions = BTreeSet::new();
        for st in grants(&t, id).statements {
            let listed: Vec<&str> = match st["Action"].as_sequence() {
                Some(list) => list.iter().map(s).collect(),
                None => st["Action"].as_str().into_iter().collect(),
            };
            actions.extend(listed.into_iter().filter(|a| a.starts_with("dynamodb:")));
        }
        if actions.contains("dynamodb:GetItem") {
            readers.insert(id);
            assert!(
                actions.contains("dynamodb:BatchGetItem"),
                "{id}: {actions:?}"
            );
        }
        if actions.contains("dynamodb:PutItem") {
            assert!(actions.contains("dynamodb:UpdateItem"), "{id}: {actions:?}");
        }
    }
    // Every function but the dashboard (files only) reads the table.
    let expected = BTreeSet::from([
        "AdminApiFunction",
        "AuditLogExportFunction",
        "AuditsApiFunction",
        "CustomFrameworksApiFunction",
        "FrameworksApiFunction",
        "NotifyFunction",
        "ProcessUploadFunction",
        "RescoreFunction",
        "RunPartitionsFunction",
        "ScansApiFunction",
        "ScoresApiFunction",
        "TrendSnapshotFunction",
    ]);
    assert_eq!(readers, expected);
}
