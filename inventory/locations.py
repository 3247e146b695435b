"""The API's locations: all of them live in one record (at most MAX_LOCATIONS, MAIN included), so that listing them
is one read, and a new code's uniqueness and the cap are one conditional write."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import NamedTuple

from inventory.model import (
    MAIN_LOCATION,
    MAIN_LOCATION_ID,
    MAX_LOCATIONS,
    DuplicateLocationCode,
    Location,
    LocationNotFound,
    TooManyLocations,
)


class Locations(NamedTuple):
    stored: Mapping[str, Location] = MappingProxyType({})  # by id; MAIN only once renamed
    revision: int = 0  # counts writes of the record: guards them

    def get(self, location_id: str) -> Location | None:
        found = self.stored.get(location_id)
        return MAIN_LOCATION if found is None and location_id == MAIN_LOCATION_ID else found

    def require(self, location_id: str) -> Location:
        location = self.get(location_id)
        if location is None:
            raise LocationNotFound(location_id)
        return location

    def all(self) -> tuple[Location, ...]:
        """Every location, MAIN included, ordered by code."""
        return tuple(sorted({MAIN_LOCATION_ID: MAIN_LOCATION, **self.stored}.values(), key=lambda loc: loc.code))

    def added(self, location: Location) -> Locations:
        """A taken code is refused before the cap, so that a client learns the one thing that would still fail."""
        every = self.all()
        if any(other.code == location.code for other in every):
            raise DuplicateLocationCode(location.code)
        if len(every) >= MAX_LOCATIONS:
            raise TooManyLocations(MAX_LOCATIONS)
        return self._stored({**self.stored, location.id: location})

    def renamed(self, location_id: str, name: str) -> Locations:
        location = self.require(location_id)
        return self._stored({**self.stored, location_id: location._replace(name=name)})

    def _stored(self, stored: dict[str, Location]) -> Locations:
        return Locations(stored, self.revision + 1)
