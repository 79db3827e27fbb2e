import { useState, type FormEvent } from "react";
import { ApiClient, type Caller, type Credentials } from "../api";
import { ProblemAlert } from "./ProblemAlert";

interface Props {
  apiBaseUrl: string;
  fetchImpl?: typeof fetch;
  onSignedIn: (client: ApiClient, caller: Caller) => void;
}

/** Credentials stay in this component's memory and the client's: never in storage. */
export function SignIn({ apiBaseUrl, fetchImpl, onSignedIn }: Props) {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [subscriptionKey, setSubscriptionKey] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setError(null);
    setBusy(true);
    const credentials: Credentials = { username: username.trim(), password, subscriptionKey: subscriptionKey.trim() };
    const client = new ApiClient(apiBaseUrl, credentials, fetchImpl);
    try {
      const caller = await client.me();
      setPassword("");
      onSignedIn(client, caller);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="sign-in">
      <h1>Sign in to the trading platform</h1>
      <form onSubmit={submit} aria-describedby="sign-in-note">
        <p id="sign-in-note">
          Your e-mail, password and subscription key are kept in this tab's memory only and are
          forgotten when you sign out or close it.
        </p>
        <label htmlFor="username">E-mail</label>
        <input id="username" name="username" type="email" autoComplete="username" required
          value={username} onChange={(e) => setUsername(e.target.value)} />
        <label htmlFor="password">Password</label>
        <input id="password" name="password" type="password" autoComplete="current-password" required
          value={password} onChange={(e) => setPassword(e.target.value)} />
        <label htmlFor="subscription-key">Subscription key</label>
        <input id="subscription-key" name="subscription-key" type="password" autoComplete="off" required
          value={subscriptionKey} onChange={(e) => setSubscriptionKey(e.target.value)} />
        <button type="submit" disabled={busy}>{busy ? "Signing in…" : "Sign in"}</button>
      </form>
      <ProblemAlert error={error} />
    </main>
  );
}
