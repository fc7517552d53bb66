//! With both features on: v1 served directly and v1 served by v2 through the bridge agree.

use billing::Calculator;
use proptest::prelude::*;
use shared::billing::bridge::{self, V1OverV2};
use shared::billing::v1::Billing as _;
use shared::billing::{v1, v2};

use crate::support::*;

proptest! {
    #[test]
    fn v1_and_v2_through_the_bridge_agree(tax in tax_rate(), parts in lines()) {
        let request = crate::v1::request(tax.basis_points(), &parts);
        let direct = Calculator::new().create_invoice(&request).unwrap();
        let bridged = V1OverV2::new(Calculator::new()).create_invoice(&request).unwrap();
        prop_assert_eq!(&bridged, &direct);
        prop_assert_eq!(
            V1OverV2::new(Calculator::new()).quote(&request).unwrap(),
            direct.totals()
        );

        // And the other way: the v2 invoice for the same request is the v1 invoice's v2 form.
        let v2_request = bridge::request_to_v2(&request).unwrap();
        let key = bridge::idempotency_key_for(request.invoice_id());
        let v2_invoice = v2::Billing::create_invoice(&Calculator::new(), &v2_request, &key).unwrap();
        prop_assert_eq!(&bridge::invoice_to_v2(&direct).unwrap(), &v2_invoice);
        prop_assert_eq!(&bridge::invoice_to_v1(&v2_invoice).unwrap(), &direct);
    }
}

#[test]
fn the_bridge_reports_what_v1_cannot_express() {
    let part = LineParts {
        quantity: quantity(1),
        unit_price: shared::domain::Amount::from_minor(100),
        discount: shared::domain::Discount::None,
    };
    let usd = crate::v2::request(shared::domain::Currency::USD, &[(part.clone(), rate(0))]);
    let usd_invoice = v2::Billing::create_invoice(
        &Calculator::new(),
        &usd,
        &shared::domain::IdempotencyKey::parse("k").unwrap(),
    )
    .unwrap();
    let err = bridge::invoice_to_v1(&usd_invoice).unwrap_err();
    assert_eq!(
        err,
        v1::BillingError::RequiresV2(v1::RequiresV2::Currency {
            found: shared::domain::Currency::USD
        })
    );
    assert_eq!(
        err.to_string(),
        "billing v1 cannot express this invoice: it is in USD, and v1 only knows EUR"
    );
}
