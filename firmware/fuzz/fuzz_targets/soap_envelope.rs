//! Fuzzes envelope validation of request bodies (rmsc_soap::validate_request), with an
//! oracle: validation for an operation succeeds exactly when the body names that operation,
//! and any other verdict does not depend on the operation.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rmsc_soap::{all_operations, body_operation_name, validate_request, EnvelopeError};

fuzz_target!(|data: &[u8]| {
    let ops = all_operations();
    let named = body_operation_name(data);
    match &named {
        // A structurally valid envelope: every operation must agree with the name.
        Ok((ns, local)) => {
            for op in &ops {
                let names_op = ns == op.service.namespace() && local == op.name;
                match validate_request(data, op) {
                    Ok(_) => assert!(names_op, "{op} accepted a body naming {{{ns}}}{local}"),
                    Err(EnvelopeError::WrongOperation { .. }) => {
                        assert!(!names_op, "{op} refused its own body")
                    }
                    Err(other) => panic!("valid envelope refused for {op}: {other}"),
                }
            }
        }
        // Not an acceptable envelope: the verdict is the same whatever the operation, so
        // one operation (chosen by the input) is enough and keeps the fuzzer fast.
        Err(expected) => {
            let op = ops[data.len() % ops.len()];
            assert_eq!(validate_request(data, op).as_ref(), Err(expected));
        }
    }
});
