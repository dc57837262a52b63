"use client";
// Credits in and out per day (last 30 days), fed by a server query (lib/balance-care/queries.ts).
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";

export type UsagePoint = { day: string; creditsIn: number; creditsOut: number };

const shortDay = (day: string) => new Date(`${day}T00:00:00Z`).toLocaleDateString("en-US", { month: "short", day: "numeric", timeZone: "UTC" });

export function UsageChart({ data }: { data: UsagePoint[] }) {
  const totalIn = data.reduce((s, d) => s + d.creditsIn, 0);
  const totalOut = data.reduce((s, d) => s + d.creditsOut, 0);
  return (
    <figure data-testid="usage-chart" aria-label={`Credits per day over the last ${data.length} days: ${totalIn} in, ${totalOut} out`}>
      <div className="h-56 w-full">
        <ResponsiveContainer width="100%" height="100%">
          <BarChart data={data} margin={{ top: 8, right: 8, bottom: 0, left: -16 }}>
            <CartesianGrid strokeDasharray="3 3" vertical={false} stroke="#e2e8f0" />
            <XAxis dataKey="day" tickFormatter={shortDay} tick={{ fontSize: 11 }} interval="preserveStartEnd" minTickGap={16} />
            <YAxis allowDecimals={false} tick={{ fontSize: 11 }} />
            <Tooltip labelFormatter={(d) => shortDay(String(d))} formatter={(v, name) => [Number(v).toLocaleString("en-US"), name]} />
            <Legend wrapperStyle={{ fontSize: 12 }} />
            <Bar dataKey="creditsIn" name="Credits in" fill="#10b981" radius={[3, 3, 0, 0]} />
            <Bar dataKey="creditsOut" name="Credits out" fill="#6366f1" radius={[3, 3, 0, 0]} />
          </BarChart>
        </ResponsiveContainer>
      </div>
      <figcaption className="mt-1 text-xs text-slate-500">
        Last {data.length} days: {totalIn.toLocaleString("en-US")} credits in, {totalOut.toLocaleString("en-US")} credits out.
      </figcaption>
    </figure>
  );
}
