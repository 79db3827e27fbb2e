import { useState, type FormEvent } from "react";
import type { ApiClient, Instrument } from "../api";
import { navigate } from "../router";
import { ProblemAlert } from "./ProblemAlert";

export function Instruments({ client }: { client: ApiClient }) {
  const [query, setQuery] = useState("");
  const [results, setResults] = useState<Instrument[] | null>(null);
  const [total, setTotal] = useState(0);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function search(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const page = await client.searchInstruments(query);
      setResults(page.items);
      setTotal(page.total);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby="instruments-heading">
      <h1 id="instruments-heading">Instruments</h1>
      <form role="search" onSubmit={search}>
        <label htmlFor="instrument-query">ISIN prefix or name</label>
        <input id="instrument-query" type="search" maxLength={100} value={query}
          onChange={(e) => setQuery(e.target.value)} />
        <button type="submit" disabled={busy}>Search</button>
      </form>
      <ProblemAlert error={error} />
      {results !== null ? (
        <>
          <p aria-live="polite">
            {total === 0 ? "No active instrument matches." : `${total} match${total === 1 ? "" : "es"}${total > results.length ? `, first ${results.length} shown` : ""}.`}
          </p>
          {results.length > 0 ? (
            <table>
              <caption className="visually-hidden">Instruments found</caption>
              <thead>
                <tr><th scope="col">ISIN</th><th scope="col">Name</th><th scope="col">Venue</th><th scope="col">Currency</th><th scope="col">Reference price</th></tr>
              </thead>
              <tbody>
                {results.map((i) => (
                  <tr key={i.isin}>
                    <td>
                      <a href={`/instruments/${i.isin}`} onClick={(e) => { e.preventDefault(); navigate(`/instruments/${i.isin}`); }}>
                        {i.isin}
                      </a>
                    </td>
                    <td>{i.full_name}</td>
                    <td>{i.venue_mic}</td>
                    <td>{i.currency}</td>
                    <td>{i.reference_price ?? "none"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
        </>
      ) : null}
    </section>
  );
}
