import { ApiError, describeFieldError, type Problem } from "../api";

/** An API problem said plainly: what failed, why, and the id support can trace it by. */
export function ProblemAlert({ error }: { error: unknown }) {
  if (error === null || error === undefined) return null;
  const problem: Problem =
    error instanceof ApiError
      ? error.problem
      : { type: "about:blank", title: "Something went wrong", status: 0, detail: String(error) };
  return (
    <div role="alert" className="problem">
      <p className="problem-title">
        <strong>{problem.title}</strong>
        {problem.status ? ` (${problem.status})` : ""}
      </p>
      {problem.detail ? <p>{problem.detail}</p> : null}
      {problem.errors && problem.errors.length > 0 ? (
        <ul>
          {problem.errors.map((e, i) => (
            <li key={i}>{describeFieldError(e)}</li>
          ))}
        </ul>
      ) : null}
      {problem.correlationId ? (
        <p className="problem-id">Reference: {problem.correlationId}</p>
      ) : null}
    </div>
  );
}
