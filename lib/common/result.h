// SPDX-License-Identifier: BSD-3-Clause
// Result<T, E>: the one error channel of the control plane, an API subset of C++23's
// std::expected so that it can be swapped for it later. Functions that can fail return a
// Result; exceptions stay inside adapters to libraries that throw (yaml-cpp).
//
// Caller: any thread. Not used on the worker hot path (it may hold a std::string).
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace director {

/** A failure with a human-readable message that says what went wrong and where. */
struct Error {
    std::string message;
};

/** Wraps an error value so that Result's constructors cannot confuse it with a value. */
template <class E>
struct Unexpected {
    E error;
};

template <class E>
Unexpected(E) -> Unexpected<E>;

/** Shorthand for returning an Error from a function that returns Result<T>. */
inline Unexpected<Error> make_error(std::string message) {
    return Unexpected<Error>{Error{std::move(message)}};
}

template <class T, class E = Error>
class [[nodiscard]] Result {
public:
    Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
    Result(Unexpected<E> e) : v_(std::in_place_index<1>, std::move(e.error)) {}  // NOLINT

    bool has_value() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return has_value(); }

    T& value() & {
        assert(has_value());
        return std::get<0>(v_);
    }
    const T& value() const& {
        assert(has_value());
        return std::get<0>(v_);
    }
    T&& value() && {
        assert(has_value());
        return std::get<0>(std::move(v_));
    }
    const E& error() const& {
        assert(!has_value());
        return std::get<1>(v_);
    }
    E&& error() && {
        assert(!has_value());
        return std::get<1>(std::move(v_));
    }

    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

private:
    std::variant<T, E> v_;
};

/** Result of an operation that yields nothing but can fail. */
template <class E>
class [[nodiscard]] Result<void, E> {
public:
    Result() = default;
    Result(Unexpected<E> e) : error_(std::move(e.error)), ok_(false) {}  // NOLINT

    bool has_value() const noexcept { return ok_; }
    explicit operator bool() const noexcept { return ok_; }
    const E& error() const& {
        assert(!ok_);
        return error_;
    }

private:
    E error_{};
    bool ok_ = true;
};

}  // namespace director
