"""Events: HRC side-events, hand-ins, exhibitions, rallies and webinars, with iCalendar feeds."""
