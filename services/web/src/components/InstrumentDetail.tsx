import { useEffect, useState } from "react";
import type { ApiClient, Instrument } from "../api";
import { navigate } from "../router";
import { OrderEntry } from "./OrderEntry";
import { ProblemAlert } from "./ProblemAlert";

export function InstrumentDetail({ client, isin }: { client: ApiClient; isin: string }) {
  const [instrument, setInstrument] = useState<Instrument | null>(null);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    let live = true;
    setInstrument(null);
    setError(null);
    client.instrument(isin).then(
      (found) => live && setInstrument(found),
      (err: unknown) => live && setError(err),
    );
    return () => {
      live = false;
    };
  }, [client, isin]);

  return (
    <section aria-labelledby="instrument-heading">
      <p>
        <a href="/instruments" onClick={(e) => { e.preventDefault(); navigate("/instruments"); }}>
          Back to the search
        </a>
      </p>
      <h1 id="instrument-heading">{instrument ? instrument.full_name : `Instrument ${isin}`}</h1>
      <ProblemAlert error={error} />
      {instrument ? (
        <>
          <dl className="facts">
            <dt>ISIN</dt><dd>{instrument.isin}</dd>
            <dt>Status</dt><dd>{instrument.status}</dd>
            <dt>CFI code</dt><dd>{instrument.cfi_code}</dd>
            <dt>Issuer LEI</dt><dd>{instrument.issuer_lei}</dd>
            <dt>Venue</dt><dd>{instrument.venue_mic}</dd>
            <dt>Currency</dt><dd>{instrument.currency}</dd>
            <dt>Tick size</dt><dd>{instrument.tick_size}</dd>
            <dt>Reference price</dt><dd>{instrument.reference_price ?? "none known"}</dd>
          </dl>
          <OrderEntry client={client} instrument={instrument} />
        </>
      ) : null}
    </section>
  );
}
